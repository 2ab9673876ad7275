/** OpenID Connect authorization requests awaiting their callback (migration 0050). */
import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

export interface OidcFlowRow {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

export async function insertOidcFlow(db: Db, idHash: Buffer, flow: OidcFlowRow): Promise<void> {
  await db.query(
    `insert into oidc_flows (id_hash, state, nonce, code_verifier, return_to) values ($1, $2, $3, $4, $5)`,
    [idHash, flow.state, flow.nonce, flow.codeVerifier, flow.returnTo],
  );
}

/** Takes the flow out (single use); null when unknown or older than `maxAgeS`. */
export async function takeOidcFlow(db: Db, idHash: Buffer, maxAgeS: number): Promise<OidcFlowRow | null> {
  const { rows } = await db.query<OidcFlowRow & { fresh: boolean }>(
    `delete from oidc_flows where id_hash = $1
     returning state, nonce, code_verifier as "codeVerifier", return_to as "returnTo", created_at > now() - make_interval(secs => $2) as fresh`,
    [idHash, maxAgeS],
  );
  const row = rows[0];
  return row?.fresh ? { state: row.state, nonce: row.nonce, codeVerifier: row.codeVerifier, returnTo: row.returnTo } : null;
}
