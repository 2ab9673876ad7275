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
