/**
 * LoRa Alliance TR005 device identification QR codes, as printed on device labels:
 *
 *   LW:D0:<JoinEUI 16 hex>:<DevEUI 16 hex>:<ProfileID 8 hex>[:<extension>…]
 *
 * Extensions start with a letter: O owner token, S serial number, P proprietary,
 * C checksum (not verified here: the labels we see are machine-printed and the
 * registry validates the EUIs themselves).
 */
export interface Tr005Label {
  joinEui: string;
  devEui: string;
  /** Vendor ID (4 hex) and vendor profile ID (4 hex). */
  profileId: string;
  serialNumber: string | null;
  ownerToken: string | null;
}

export function parseTr005(text: string): Tr005Label | { error: string } {
  const parts = text.trim().split(':');
  if (parts[0] !== 'LW') return { error: 'does not start with LW: (LoRa Alliance TR005 QR code)' };
  if (parts[1] !== 'D0') return { error: `schema ${parts[1] ?? '(missing)'} is not supported (expected D0)` };
  const [joinEui, devEui, profileId] = [parts[2] ?? '', parts[3] ?? '', parts[4] ?? ''];
  if (!/^[0-9A-Fa-f]{16}$/.test(joinEui)) return { error: 'JoinEUI (3rd field) must be 16 hex digits' };
  if (!/^[0-9A-Fa-f]{16}$/.test(devEui)) return { error: 'DevEUI (4th field) must be 16 hex digits' };
  if (!/^[0-9A-Fa-f]{8}$/.test(profileId)) return { error: 'ProfileID (5th field) must be 8 hex digits' };
  const ext = (letter: string) => parts.slice(5).find((p) => p.startsWith(letter))?.slice(1) ?? null;
  return { joinEui: joinEui.toLowerCase(), devEui: devEui.toLowerCase(), profileId: profileId.toLowerCase(), serialNumber: ext('S'), ownerToken: ext('O') };
}
