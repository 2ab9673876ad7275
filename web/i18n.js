// German and English labels. The language follows the browser until the user picks one.
const texts = {
  de: {
    skip: 'Zum Inhalt', views: 'Ansichten', language: 'Sprache',
    'nav.explore': 'Offene Daten', 'nav.tech': 'Technik', 'nav.control': 'Verkehrssteuerung', 'nav.ops': 'Betrieb',
    signin: 'Anmelden', signout: 'Abmelden', apikey: 'API-Schlüssel', signedInAs: 'Angemeldet als', needKey: 'Diese Ansicht braucht einen API-Schlüssel.',
    register: 'Sensor registrieren', qr: 'QR-Code des Geräts (LoRa Alliance TR005) oder DevEUI', scan: 'Mit Kamera scannen', stopScan: 'Scan beenden',
    model: 'Gerätemodell', asset: 'Montageort', existingAsset: 'Vorhandener Ort (z. B. Lampennummer)', newAsset: 'Neuer Ort', assetId: 'Kennung des Orts', kind: 'Art',
    position: 'Position', gps: 'Position vom Telefon', tapMap: 'Oder auf die Karte tippen', latitude: 'Breite', longitude: 'Länge', zone: 'Zone',
    abp: 'ABP-Schlüssel (nur bei Geräten ohne Netzwerkserver; werden nie wieder angezeigt)', save: 'Speichern', saved: 'Gespeichert', device: 'Gerät',
    lastSeen: 'Zuletzt gesehen', never: 'noch nie', values: 'Werte', waiting: 'Warte auf die erste Nachricht …', move: 'Versetzen an', decommission: 'Außer Betrieb nehmen',
    importCsv: 'CSV importieren', importBtn: 'Importieren', imported: 'importiert', failed: 'fehlerhaft', row: 'Zeile', field: 'Feld', problem: 'Problem',
    unverified: 'ungeprüft: Codec ohne Beispiele', fromRepository: 'aus dem Geräteverzeichnis',
    zones: 'Zonen', free: 'frei', occupied: 'belegt', unknown: 'unbekannt', of: 'von', garages: 'Parkhäuser', bays: 'Stellplätze', sites: 'Zählstellen', flow: 'Fahrzeuge/Intervall',
    mapView: 'Karte', listView: 'Liste', live: 'live', disconnected: 'Verbindung unterbrochen, verbinde neu …',
    exploreTitle: 'Offene Daten der Stadt', dataset: 'Datensatz', chart: 'Verlauf', metric: 'Messgröße', from: 'Von', to: 'Bis', bucket: 'Auflösung', raw: 'Rohwerte', hour: 'Stunde', day: 'Tag',
    download: 'Herunterladen', apiUrl: 'API-Adresse zum Automatisieren', licence: 'Lizenz', attribution: 'Namensnennung', pick: 'Sensor auf der Karte oder in der Liste wählen',
    uba: 'Farben: Luftqualitätsindex des Umweltbundesamts (PM2,5)', noTiles: 'Kartenkacheln nicht erreichbar – Punkte und Liste funktionieren weiter.',
    opsTitle: 'Betriebsübersicht', ingest: 'Eingang', messages: 'Nachrichten', uplinks: 'Uplinks', readings: 'Messwerte', batch: 'Schreibdauer je Stapel', deadLetters: 'Fehlerhafte Nachrichten',
    reason: 'Grund', count: 'Anzahl', concentrators: 'Konzentratoren', online: 'online', offline: 'offline', silent: 'Stille Geräte', lowBattery: 'Schwache Batterien', database: 'Datenbank', size: 'Größe', compressed: 'Chunks komprimiert', show: 'Anzeigen', payload: 'Nachricht (Base64)',
  },
  en: {
    skip: 'Skip to content', views: 'Views', language: 'Language',
    'nav.explore': 'Open data', 'nav.tech': 'Technicians', 'nav.control': 'Traffic control', 'nav.ops': 'Operations',
    signin: 'Sign in', signout: 'Sign out', apikey: 'API key', signedInAs: 'Signed in as', needKey: 'This view needs an API key.',
    register: 'Register a sensor', qr: 'Device QR code (LoRa Alliance TR005) or DevEUI', scan: 'Scan with camera', stopScan: 'Stop scanning',
    model: 'Device model', asset: 'Mounted on', existingAsset: 'Existing asset (e.g. lamp number)', newAsset: 'New asset', assetId: 'Asset id', kind: 'Kind',
    position: 'Position', gps: 'Position from this phone', tapMap: 'Or tap the map', latitude: 'Latitude', longitude: 'Longitude', zone: 'Zone',
    abp: 'ABP keys (only for devices without a network server; never shown again)', save: 'Save', saved: 'Saved', device: 'Device',
    lastSeen: 'Last seen', never: 'never', values: 'Values', waiting: 'Waiting for the first message …', move: 'Move to', decommission: 'Decommission',
    importCsv: 'Import CSV', importBtn: 'Import', imported: 'imported', failed: 'failed', row: 'Row', field: 'Field', problem: 'Problem',
    unverified: 'unverified: codec without examples', fromRepository: 'from the device repository',
    zones: 'Zones', free: 'free', occupied: 'occupied', unknown: 'unknown', of: 'of', garages: 'Garages', bays: 'Bays', sites: 'Counting sites', flow: 'Vehicles/interval',
    mapView: 'Map', listView: 'List', live: 'live', disconnected: 'Connection lost, reconnecting …',
    exploreTitle: "The city's open data", dataset: 'Dataset', chart: 'History', metric: 'Metric', from: 'From', to: 'To', bucket: 'Resolution', raw: 'Raw', hour: 'Hour', day: 'Day',
    download: 'Download', apiUrl: 'API URL for automation', licence: 'Licence', attribution: 'Attribution', pick: 'Pick a sensor on the map or in the list',
    uba: 'Colours: German Environment Agency (UBA) air quality index bands (PM2.5)', noTiles: 'Map tiles unreachable – points and list still work.',
    opsTitle: 'Status overview', ingest: 'Ingest', messages: 'Messages', uplinks: 'Uplinks', readings: 'Readings', batch: 'Write time per batch', deadLetters: 'Dead letters',
    reason: 'Reason', count: 'Count', concentrators: 'Concentrators', online: 'online', offline: 'offline', silent: 'Silent devices', lowBattery: 'Low batteries', database: 'Database', size: 'Size', compressed: 'chunks compressed', show: 'Show', payload: 'Message (base64)',
  },
};

// Lamps, downlinks and OTAA registration (issue 23).
Object.assign(texts.de, {
  'lamps.title': 'Straßenlampen', 'lamps.allZones': 'Alle Zonen', 'lamps.level': 'Helligkeit (%)', 'lamps.dimZone': 'Zone dimmen',
  'lamps.lamp': 'Lampe', 'lamps.reported': 'Gemeldet', 'lamps.command': 'Befehl', 'lamps.actions': 'Schalten',
  'lamps.on': 'an', 'lamps.off': 'aus', 'lamps.dim': 'Dimmen', 'lamps.dimTo': 'Dimmen:', 'lamps.switchOff': 'Ausschalten:',
  'lamps.pending': 'ausstehend', 'lamps.confirmed': 'bestätigt', 'lamps.not_confirmed': 'nicht bestätigt', 'lamps.failed': 'fehlgeschlagen', 'lamps.queued': 'Befehle eingereiht',
  'downlinks.title': 'Letzte Downlinks', 'downlinks.port': 'FPort', 'downlinks.state': 'Zustand', 'downlinks.gateway': 'Gateway', 'downlinks.when': 'Zeit',
  'downlinks.queued': 'eingereiht', 'downlinks.sent': 'gesendet', 'downlinks.acknowledged': 'bestätigt', 'downlinks.failed': 'fehlgeschlagen',
  'otaa.title': 'OTAA (Beitritt über die Luft)', 'otaa.hint': 'JoinEUI steht im QR-Code; der AppKey wird nie wieder angezeigt.', 'otaa.version': 'LoRaWAN-Version',
});
Object.assign(texts.en, {
  'lamps.title': 'Street lamps', 'lamps.allZones': 'All zones', 'lamps.level': 'Brightness (%)', 'lamps.dimZone': 'Dim zone',
  'lamps.lamp': 'Lamp', 'lamps.reported': 'Reported', 'lamps.command': 'Command', 'lamps.actions': 'Switch',
  'lamps.on': 'on', 'lamps.off': 'off', 'lamps.dim': 'Dim', 'lamps.dimTo': 'Dim:', 'lamps.switchOff': 'Switch off:',
  'lamps.pending': 'pending', 'lamps.confirmed': 'confirmed', 'lamps.not_confirmed': 'not confirmed', 'lamps.failed': 'failed', 'lamps.queued': 'commands queued',
  'downlinks.title': 'Latest downlinks', 'downlinks.port': 'FPort', 'downlinks.state': 'State', 'downlinks.gateway': 'Gateway', 'downlinks.when': 'Time',
  'downlinks.queued': 'queued', 'downlinks.sent': 'sent', 'downlinks.acknowledged': 'acknowledged', 'downlinks.failed': 'failed',
  'otaa.title': 'OTAA (joins over the air)', 'otaa.hint': 'The JoinEUI is in the QR code; the AppKey is never shown again.', 'otaa.version': 'LoRaWAN version',
});
// Sign-in, the user menu and user accounts (issue 25, accounts): a block of its own.
const authTexts = {
  de: {
    'nav.signin': 'Anmelden', 'nav.users': 'Benutzer',
    'auth.title': 'Anmelden', 'auth.username': 'Benutzername', 'auth.password': 'Passwort', 'auth.submit': 'Anmelden', 'auth.or': 'oder',
    'auth.oidc': 'Anmelden mit {name}', 'auth.machines': 'Für Maschinen und Administration: API-Schlüssel',
    'auth.keyHint': 'Der Schlüssel gilt nur in diesem Browser-Tab.', 'auth.useKey': 'Mit Schlüssel anmelden',
    'auth.needSignIn': 'Für diese Ansicht müssen Sie angemeldet sein.', 'auth.signedInAs': 'Angemeldet als {name}', 'auth.menu': 'Benutzermenü',
    'auth.role.admin': 'Administration', 'auth.role.technician': 'Technik', 'auth.role.operator': 'Verkehrssteuerung',
    'auth.users': 'Benutzer', 'auth.signOut': 'Abmelden', 'auth.signOutEverywhere': 'Überall abmelden',
    'auth.signedOut': 'Sie sind abgemeldet.', 'auth.signedOutEverywhere': 'Sie sind auf allen Geräten abgemeldet.',
    'auth.err.STADTFUNK_ERR_SIGN_IN_FAILED': 'Benutzername oder Passwort ist falsch.',
    'auth.err.STADTFUNK_ERR_ACCOUNT_LOCKED': 'Zu viele Fehlversuche: Das Konto ist für {minutes} Min. gesperrt. In Browsern, mit denen Sie sich schon angemeldet haben, können Sie sich weiter anmelden.',
    'auth.err.STADTFUNK_ERR_TOO_MANY_SIGN_INS': 'Zu viele Fehlversuche von diesem Netzwerk aus. Bitte versuchen Sie es in {minutes} Min. erneut.',
    'auth.err.STADTFUNK_ERR_USER_DISABLED': 'Dieses Konto ist gesperrt. Bitte wenden Sie sich an die Administration.',
    'auth.err.STADTFUNK_ERR_NEEDS_HTTPS': 'Anmelden geht nur über eine sichere Verbindung (https). Bitte die https-Adresse des Dienstes verwenden.',
    'auth.err.needs_https': 'Anmelden geht nur über eine sichere Verbindung (https). Bitte die https-Adresse des Dienstes verwenden.',
    'auth.err.STADTFUNK_ERR_BUSY': 'Gerade melden sich sehr viele an. Bitte versuchen Sie es gleich noch einmal.',
    'auth.err.STADTFUNK_ERR_BAD_KEY': 'Dieser API-Schlüssel ist unbekannt oder widerrufen.', 'auth.err.badKey': 'Dieser API-Schlüssel ist unbekannt oder widerrufen.',
    'auth.err.STADTFUNK_ERR_CROSS_ORIGIN': 'Bitte melden Sie sich über die Anmeldeseite dieses Dienstes an.',
    'auth.err.oidc_no_role': 'Ihr Konto bei {name} gehört zu keiner Gruppe, die Zugang zu stadtfunk gibt. Bitten Sie Ihre Administration, Sie der Gruppe für Ihre Aufgabe (Technik, Verkehrssteuerung oder Administration) hinzuzufügen.',
    'auth.err.oidc_denied': 'Die Anmeldung bei {name} wurde abgebrochen.',
    'auth.err.oidc_failed': 'Die Antwort von {name} ließ sich nicht prüfen, deshalb wurde die Anmeldung abgelehnt. Bitte versuchen Sie es erneut.',
    'auth.err.oidc_expired': 'Die Anmeldung hat zu lange gedauert oder wurde in einem anderen Browser begonnen. Bitte versuchen Sie es erneut.',
    'auth.err.oidc_disabled': 'Ihr Konto ist in stadtfunk gesperrt. Bitte wenden Sie sich an die Administration.',
    'auth.err.oidc_unreachable': '{name} ist gerade nicht erreichbar. Bitte später erneut versuchen oder mit Benutzername und Passwort anmelden.',
    'auth.err.STADTFUNK_ERR_WEAK_PASSWORD': 'Das Passwort braucht mindestens 12 Zeichen und darf nicht der Benutzername sein.',
    'auth.err.STADTFUNK_ERR_USER_EXISTS': 'Diesen Benutzernamen gibt es schon.',
    'auth.err.STADTFUNK_ERR_BAD_USERNAME': 'Benutzername: nur Kleinbuchstaben, Ziffern und . _ @ - (höchstens 100 Zeichen).',
    'auth.err.STADTFUNK_ERR_SELF_LOCKOUT': 'Sie können sich nicht selbst sperren oder Ihre Administrationsrolle abgeben.',
    'users.adminOnly': 'Benutzer verwalten kann nur die Administration.', 'users.create': 'Benutzer anlegen', 'users.createButton': 'Anlegen',
    'users.displayName': 'Name', 'users.role': 'Rolle', 'users.initialPassword': 'Anfangspasswort', 'users.passwordHint': 'Mindestens 12 Zeichen. Teilen Sie es der Person auf sicherem Weg mit.',
    'users.source': 'Anmeldung', 'users.local': 'Passwort', 'users.oidc': 'Identitätsanbieter', 'users.status': 'Status', 'users.lastSignIn': 'Letzte Anmeldung', 'users.actions': 'Aktionen',
    'users.active': 'aktiv', 'users.disabled': 'gesperrt', 'users.locked': 'Fehlversuche, gesperrt bis {time}', 'users.none': 'Noch keine Benutzer.',
    'users.disable': 'Sperren', 'users.enable': 'Entsperren', 'users.unlock': 'Sperre aufheben', 'users.endSessions': 'Überall abmelden',
    'users.created': 'Benutzer {name} angelegt.', 'users.enabled': '{name} entsperrt.', 'users.disabledDone': '{name} gesperrt und abgemeldet.',
    'users.unlocked': 'Sperre für {name} aufgehoben.', 'users.sessionsEnded': '{name} ist überall abgemeldet.',
  },
  en: {
    'nav.signin': 'Sign in', 'nav.users': 'Users',
    'auth.title': 'Sign in', 'auth.username': 'User name', 'auth.password': 'Password', 'auth.submit': 'Sign in', 'auth.or': 'or',
    'auth.oidc': 'Sign in with {name}', 'auth.machines': 'For machines and admins: API key',
    'auth.keyHint': 'The key is kept for this browser tab only.', 'auth.useKey': 'Use key',
    'auth.needSignIn': 'This view needs you to sign in.', 'auth.signedInAs': 'Signed in as {name}', 'auth.menu': 'User menu',
    'auth.role.admin': 'Administrator', 'auth.role.technician': 'Technician', 'auth.role.operator': 'Traffic control',
    'auth.users': 'Users', 'auth.signOut': 'Sign out', 'auth.signOutEverywhere': 'Sign out everywhere',
    'auth.signedOut': 'You are signed out.', 'auth.signedOutEverywhere': 'You are signed out on all devices.',
    'auth.err.STADTFUNK_ERR_SIGN_IN_FAILED': 'User name or password is wrong.',
    'auth.err.STADTFUNK_ERR_ACCOUNT_LOCKED': 'Too many failed attempts: this account is locked for {minutes} min. Browsers you have signed in with before can still sign in.',
    'auth.err.STADTFUNK_ERR_TOO_MANY_SIGN_INS': 'Too many failed attempts from this network. Please try again in {minutes} min.',
    'auth.err.STADTFUNK_ERR_USER_DISABLED': 'This account is disabled. Please contact an administrator.',
    'auth.err.STADTFUNK_ERR_NEEDS_HTTPS': 'Signing in needs a secure connection (https). Please use the service\'s https address.',
    'auth.err.needs_https': 'Signing in needs a secure connection (https). Please use the service\'s https address.',
    'auth.err.STADTFUNK_ERR_BUSY': 'Many people are signing in right now. Please try again in a moment.',
    'auth.err.STADTFUNK_ERR_BAD_KEY': 'This API key is unknown or revoked.', 'auth.err.badKey': 'This API key is unknown or revoked.',
    'auth.err.STADTFUNK_ERR_CROSS_ORIGIN': 'Please sign in on this service\'s own sign-in page.',
    'auth.err.oidc_no_role': 'Your account at {name} is in none of the groups that give access to stadtfunk. Ask your administrator to add you to the group for your work (technicians, traffic control or administrators).',
    'auth.err.oidc_denied': 'Signing in at {name} was cancelled.',
    'auth.err.oidc_failed': 'The answer from {name} could not be verified, so signing in was refused. Please try again.',
    'auth.err.oidc_expired': 'Signing in took too long or was started in another browser. Please try again.',
    'auth.err.oidc_disabled': 'Your stadtfunk account is disabled. Please contact an administrator.',
    'auth.err.oidc_unreachable': '{name} cannot be reached right now. Please try again later or sign in with user name and password.',
    'auth.err.STADTFUNK_ERR_WEAK_PASSWORD': 'The password needs at least 12 characters and must not be the user name.',
    'auth.err.STADTFUNK_ERR_USER_EXISTS': 'This user name is taken.',
    'auth.err.STADTFUNK_ERR_BAD_USERNAME': 'User name: lower-case letters, digits and . _ @ - only (at most 100 characters).',
    'auth.err.STADTFUNK_ERR_SELF_LOCKOUT': 'You cannot disable yourself or give up your own admin role.',
    'users.adminOnly': 'Only administrators manage users.', 'users.create': 'Create a user', 'users.createButton': 'Create',
    'users.displayName': 'Name', 'users.role': 'Role', 'users.initialPassword': 'Initial password', 'users.passwordHint': 'At least 12 characters. Pass it on to the person by a safe channel.',
    'users.source': 'Signs in with', 'users.local': 'Password', 'users.oidc': 'Identity provider', 'users.status': 'Status', 'users.lastSignIn': 'Last sign-in', 'users.actions': 'Actions',
    'users.active': 'active', 'users.disabled': 'disabled', 'users.locked': 'failed attempts, locked until {time}', 'users.none': 'No users yet.',
    'users.disable': 'Disable', 'users.enable': 'Enable', 'users.unlock': 'Lift lock', 'users.endSessions': 'Sign out everywhere',
    'users.created': 'User {name} created.', 'users.enabled': '{name} enabled.', 'users.disabledDone': '{name} disabled and signed out.',
    'users.unlocked': 'Lock lifted for {name}.', 'users.sessionsEnded': '{name} is signed out everywhere.',
  },
};
for (const language of Object.keys(authTexts)) Object.assign(texts[language], authTexts[language]);

export function lang() {
  return localStorage.getItem('stadtfunk.lang') ?? (navigator.language?.startsWith('de') ? 'de' : 'en');
}

export function setLang(value) {
  localStorage.setItem('stadtfunk.lang', value);
}

export function t(key) {
  return texts[lang()]?.[key] ?? texts.en[key] ?? key;
}

export function applyStatic() {
  document.documentElement.lang = lang();
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
}
