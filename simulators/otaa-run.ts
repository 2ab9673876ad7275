/** `stadtfunk simulate --otaa`: an OTAA city on a connected client, for a while. */
import { OtaaCity, type OtaaCityOptions, type OtaaCityStats } from './otaa-city.js';

export async function runOtaaSimulation(options: OtaaCityOptions, durationS: number, onProgress?: (stats: OtaaCityStats, elapsedS: number) => void): Promise<OtaaCityStats> {
  const city = new OtaaCity(options);
  await city.start();
  return city.run(durationS, onProgress);
}
