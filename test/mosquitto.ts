export { mosquittoAvailable, startMosquitto, type TestMosquitto } from '../bench/mosquitto.js';
