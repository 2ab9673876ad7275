import { describe, expect, it } from 'vitest';
import { parseTr005 } from './tr005.js';

// Format: LoRa Alliance TR005 "LoRaWAN Device Identification QR Codes", section 4
// (LW:D0:JoinEUI:DevEUI:ProfileID[:extensions]); the example EUIs follow Semtech's LR1110
// claiming documentation (JoinEUI 00-16-C0-01-FF-FE-00-01).
describe('TR005 QR codes', () => {
  it('reads JoinEUI, DevEUI, profile and serial number', () => {
    expect(parseTr005('LW:D0:0016C001FFFE0001:0016C001FF1000AB:A1B20002:SSN-4711:O0123ABCD')).toEqual({
      joinEui: '0016c001fffe0001', devEui: '0016c001ff1000ab', profileId: 'a1b20002', serialNumber: 'SN-4711', ownerToken: '0123ABCD',
    });
  });

  it.each([
    ['https://example.org', /does not start with LW:/],
    ['LW:D1:0016C001FFFE0001:0016C001FF1000AB:A1B20002', /schema D1/],
    ['LW:D0:0016C001FFFE0001:0016C001FF1000:A1B20002', /DevEUI \(4th field\)/],
    ['LW:D0:0016C001FFFE0001:0016C001FF1000AB', /ProfileID/],
  ])('names what is wrong with %s', (text, message) => {
    const r = parseTr005(text);
    expect('error' in r && r.error).toMatch(message);
  });
});
