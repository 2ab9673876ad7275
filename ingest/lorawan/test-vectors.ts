/**
 * Published known-answer vectors for the frame layer's tests, each with its source.
 * Facts (bytes and keys) only; the code around them is stadtfunk's own.
 */

/**
 * lora-packet 0.9.x (github.com/anthonykirby/lora-packet): README usage example and
 * `__tests__/mic_test.ts`, `__tests__/decrypt_test.ts`.
 */
export const loraPacket = {
  nwkSKey: '44024241ed4ce9a68c6a8bc055233fd3',
  appSKey: 'ec925802ae430ca77fd3dd73cb2cc588',
  /** Unconfirmed data up, DevAddr 49be7df1, FCnt 2, FPort 1, payload "test", MIC 2b11ff0d. */
  testFrame: '40F17DBE4900020001954378762B11FF0D',
  testPlaintext: 'test',
  testMic: '2b11ff0d',
  /** Same device, FCnt 3, FPort 1, empty payload, MIC 2a3518af. */
  emptyFrame: '40F17DBE49000300012A3518AF',
  emptyMic: '2a3518af',
  /** decrypt_test.ts "should decrypt large payload": FCnt 4, 44 bytes over three keystream blocks. */
  largeFrame:
    '40f17dbe490004000155332de41a11adc072553544429ce7787707d1c316e027e7e5e334263376affb8aa17ad30075293f28dea8a20af3c5e7',
  largePlaintext: 'The quick brown fox jumps over the lazy dog.',
  /** decrypt_test.ts "bad key scrambles payload": testFrame with the AppSKey's last nibble 8 → 0. */
  wrongAppSKey: 'ec925802ae430ca77fd3dd73cb2cc580',
  wrongKeyOutput: '5999fc3f',
  /** mic_test.ts "data packet MIC for ACK": unconfirmed data DOWN (MHDR 0x60), FCtrl ACK. */
  ackDownlinkFrame: '60f17dbe4920020001f9d65d27',
  /** mic_test.ts join-request. */
  joinRequestFrame: '0039363463336913AA05693574323831330489C65B1304',
  /** mic_test.ts join-accept (not encrypted). */
  joinAcceptFrame: '20386337CCBBAAE7CD2C010000D9D0A6E7',
} as const;

/**
 * ChirpStack `lrwn` crate doc-tests (github.com/chirpstack/chirpstack, lrwn/src/phy_payload.rs,
 * "LoRaWAN 1.0.x confirmed uplink example", "Proprietary example" and
 * "LoRaWAN 1.0.x Relay ForwardUplinkReq example").
 */
export const chirpstackLrwn = {
  nwkSKey: '0102030405060708090a0b0c0d0e0f10',
  appSKey: '100f0e0d0c0b0a090807060504030201',
  /**
   * Confirmed data up, DevAddr 01020304, FCnt 0, FOpts = DevStatusAns(battery 115,
   * margin 7), FPort 10, FRMPayload 01020304 encrypted with the AppSKey, MIC e117d2c0.
   */
  confirmedUplink: '8004030201030000067307' + '0ae264d4f7' + 'e117d2c0',
  plaintext: '01020304',
  mic: 'e117d2c0',
  proprietary: 'e0010203',
  /**
   * Relay ForwardUplinkReq: unconfirmed data up, DevAddr 01020304, FCnt 10, FPort 226 (relay,
   * encrypted with the relay's NwkSKey), MIC bdc9ae51 over B0 with FCnt 10.
   */
  relayNwkSKey: '08070605040302010807060504030201',
  relayForwardUplink:
    '4004030201000a00e2' + '2f68f4a50adffb64ef37910f146a6c2bda4f7e2db96ac899a8a4727d0a' + 'bdc9ae51',
  relayMic: 'bdc9ae51',
} as const;

/**
 * ChirpStack `lrwn` join vectors (github.com/chirpstack/chirpstack @ 0679f10f): the
 * "Join-request example" and "LoRaWAN 1.0.x Join-accept example" doc-tests of
 * lrwn/src/phy_payload.rs, and the `lorawan_1_0` test of lrwn/src/keys.rs (@ 235a4dd4).
 */
export const chirpstackJoin = {
  appKey: '0102030405060708090a0b0c0d0e0f10',
  /** JoinEUI 0101010101010101, DevEUI 0202020202020202, DevNonce 771 (0x0303), MIC 09b97b32. */
  joinRequest: '00' + '0101010101010101' + '0202020202020202' + '0303' + '09b97b32',
  joinRequestMic: '09b97b32',
  /** JoinNonce 65793, NetID 020202, DevAddr 01020304, DLSettings 0, RxDelay 0, no CFList: MIC 3449f212, then encrypted. */
  joinAccept: '2023cf335489aae3183c0be0baa8dee5f3',
  joinAcceptMic: '3449f212',
  /** keys.rs lorawan_1_0: key 01..08 01..08, NetID 010203, JoinNonce 65536, DevNonce 258. */
  keyDerivation: {
    key: '01020304050607080102030405060708',
    netId: '010203',
    joinNonce: 65536,
    devNonce: 258,
    nwkSKey: Buffer.from([223, 83, 195, 95, 48, 52, 204, 206, 208, 255, 53, 76, 112, 222, 4, 223]).toString('hex'),
    appSKey: Buffer.from([146, 123, 156, 145, 17, 131, 207, 254, 76, 178, 255, 75, 117, 84, 95, 109]).toString('hex'),
  },
  /** lrwn/src/netid.rs tests: NetID → DevAddr prefix (bits), one per NetID type. */
  devAddrPrefixes: [
    { netId: '00006d', prefix: '5a000000', bits: 7 },
    { netId: '20006d', prefix: 'ad000000', bits: 8 },
    { netId: '40036d', prefix: 'd6d00000', bits: 12 },
    { netId: '76db6d', prefix: 'e6da0000', bits: 15 },
    { netId: '96db6d', prefix: 'f5b68000', bits: 17 },
    { netId: 'b6db6d', prefix: 'fb6da000', bits: 19 },
    { netId: 'd6db6d', prefix: 'fd6db400', bits: 22 },
    { netId: 'f6db6d', prefix: 'fe6db680', bits: 25 },
  ],
} as const;

/** RFC 4493 §4 test vectors (AES-CMAC, K = 2b7e1516 28aed2a6 abf71588 09cf4f3c). */
export const rfc4493 = {
  key: '2b7e151628aed2a6abf7158809cf4f3c',
  examples: [
    { name: 'Example 1: len = 0', message: '', mac: 'bb1d6929e95937287fa37d129b756746' },
    { name: 'Example 2: len = 16', message: '6bc1bee22e409f96e93d7e117393172a', mac: '070a16b46b4d4144f79bdd9dd04a287c' },
    {
      name: 'Example 3: len = 40',
      message: '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411',
      mac: 'dfa66747de9ae63030ca32611497c827',
    },
    {
      name: 'Example 4: len = 64',
      message:
        '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710',
      mac: '51f0bebf7e3b9d92fc49741779363cfe',
    },
  ],
} as const;

export function hex(value: string): Buffer {
  return Buffer.from(value, 'hex');
}
