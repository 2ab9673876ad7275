-- People sign in (issue 25): user accounts with a role, their sessions, browsers that
-- have signed in before (so a guesser cannot lock a user out of them), failed sign-ins
-- per client address, and OpenID Connect sign-ins in progress. API keys stay for machines.
--
-- No secret is stored as it was sent: passwords as scrypt hashes (PHC string), session,
-- device and flow tokens as SHA-256 of the random value the browser holds in a cookie.

create table users (
  id              text primary key,
  -- local accounts sign in with it (lower case); null for a user known only from the IdP
  username        text collate "C" unique check (username ~ '^[a-z0-9][a-z0-9._@-]{0,99}$'),
  display_name    text not null,
  role            text not null check (role in ('admin', 'technician', 'operator')),
  -- '$scrypt$ln=..,r=..,p=..$salt$hash'; null: no password (OpenID Connect only)
  password_hash   text,
  oidc_issuer     text,
  oidc_subject    text,
  -- the provider's preferred_username (or e-mail), refreshed at each sign-in; for people, not for matching
  oidc_username   text,
  disabled_at     timestamptz,
  created_at      timestamptz not null default now(),
  last_sign_in_at timestamptz,
  -- consecutive failed password sign-ins from browsers this user has not signed in with
  failed_sign_ins integer not null default 0,
  locked_until    timestamptz,
  unique (oidc_issuer, oidc_subject),
  check ((oidc_issuer is null) = (oidc_subject is null)),
  check (username is not null or oidc_subject is not null)
);

create table user_sessions (
  token_hash    bytea primary key,
  user_id       text not null references users (id) on delete cascade,
  via           text not null check (via in ('password', 'oidc')),
  created_at    timestamptz not null default now(),
  -- refreshed at most once a minute; idle expiry counts from here
  last_seen_at  timestamptz not null default now(),
  -- absolute expiry, fixed at sign-in
  expires_at    timestamptz not null,
  remote_addr   text,
  user_agent    text
);
create index user_sessions_user on user_sessions (user_id);
create index user_sessions_expires on user_sessions (expires_at);

-- A browser that signed in as this user: its own failure count instead of the account's lock.
create table user_devices (
  token_hash      bytea primary key,
  user_id         text not null references users (id) on delete cascade,
  created_at      timestamptz not null default now(),
  last_used_at    timestamptz not null default now(),
  failed_sign_ins integer not null default 0
);
create index user_devices_user on user_devices (user_id);

-- Failed password sign-ins per client address in a fixed window.
create table sign_in_failures (
  remote_addr       text primary key,
  window_started_at timestamptz not null,
  failures          integer not null
);

-- OpenID Connect authorization requests awaiting their callback (single use, minutes).
create table oidc_flows (
  id_hash        bytea primary key,
  state          text not null,
  nonce          text not null,
  code_verifier  text not null,
  return_to      text not null,
  created_at     timestamptz not null default now()
);
