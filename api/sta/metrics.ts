/** Prometheus metrics of the SensorThings MQTT side (stadtfunk_sta_*). */
import { Counter, register } from 'prom-client';

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const staMqttPublished = once('stadtfunk_sta_mqtt_messages_total', () =>
  new Counter({ name: 'stadtfunk_sta_mqtt_messages_total', help: 'SensorThings MQTT messages handed to the broker' }));
export const staMqttDropped = once('stadtfunk_sta_mqtt_dropped_total', () =>
  new Counter({ name: 'stadtfunk_sta_mqtt_dropped_total', help: 'SensorThings MQTT messages not sent (QoS 0), by reason', labelNames: ['reason'] }));
export const staSeriesRegistered = once('stadtfunk_sta_series_registered_total', () =>
  new Counter({ name: 'stadtfunk_sta_series_registered_total', help: 'Series (Datastreams) registered or updated in the catalogue' }));
export const staZoneSamples = once('stadtfunk_sta_zone_samples_total', () =>
  new Counter({ name: 'stadtfunk_sta_zone_samples_total', help: 'Zone occupancy samples, by result: written, or present (another instance or an earlier run wrote the interval)', labelNames: ['result'] }));
export const staZoneSampleFailures = once('stadtfunk_sta_zone_sample_failures_total', () =>
  new Counter({ name: 'stadtfunk_sta_zone_sample_failures_total', help: 'Zone sampling runs that failed (their interval has no sample from this instance)' }));
