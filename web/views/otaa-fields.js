// OTAA fields of the technician's registration form: the AppKey (write-only, never shown
// again) and the device's LoRaWAN version. The JoinEUI comes from the TR005 QR code, or
// is typed for a device without one.
import { el } from '../api.js';
import { t } from '../i18n.js';

export function otaaFields() {
  const joinEui = el('input', { id: 'joineui', autocomplete: 'off', placeholder: '70B3D57ED0000000', maxlength: '16' });
  const appKey = el('input', { id: 'appkey', type: 'password', autocomplete: 'off', maxlength: '32' });
  const version = el('select', { id: 'macversion' }, ['1.0.3', '1.0.4', '1.0.2', '1.0.1', '1.0.0'].map((v) => el('option', { value: v }, `LoRaWAN ${v}`)));
  return {
    element: el('details', {}, el('summary', {}, t('otaa.title')),
      el('p', { class: 'muted' }, t('otaa.hint')),
      el('label', { for: 'joineui' }, 'JoinEUI'), joinEui,
      el('label', { for: 'appkey' }, 'AppKey'), appKey,
      el('label', { for: 'macversion' }, t('otaa.version')), version),
    /** What goes into the registration body; nothing when no AppKey was typed. */
    values() {
      if (!appKey.value.trim()) return {};
      return { appKey: appKey.value.trim(), macVersion: version.value, ...(joinEui.value.trim() ? { joinEui: joinEui.value.trim() } : {}) };
    },
    clear() {
      appKey.value = '';
    },
  };
}
