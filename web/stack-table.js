// Tables that become cards on a phone (app.css, table.stack: users, street lamps, downlinks).
// Each cell carries its column's name for the card's label, and the roles are explicit:
// cells displayed as blocks would otherwise lose the table's semantics.
import { el } from './api.js';

/** A table.stack with `headings` (texts) and `rows` (from stackRow); `caption` for screen readers only. */
export function stackTable(attrs, headings, rows, caption = null) {
  return el('table', { ...attrs, class: `stack${attrs.class ? ` ${attrs.class}` : ''}`, role: 'table' },
    caption === null ? null : el('caption', { class: 'sr-only' }, caption),
    el('thead', { role: 'rowgroup' }, el('tr', { role: 'row' }, headings.map((h) => el('th', { role: 'columnheader', scope: 'col' }, h)))),
    el('tbody', { role: 'rowgroup' }, rows));
}

/** A row: its heading cell, then the cells (stackCell). */
export function stackRow(attrs, heading, ...cells) {
  return el('tr', { ...attrs, role: 'row' }, el('th', { role: 'rowheader', scope: 'row' }, heading), ...cells);
}

/** A cell labelled `label` on a phone; a value of several parts stays one piece beside the label. */
export function stackCell(label, content, attrs = {}) {
  return el('td', { role: 'cell', 'data-label': label, ...attrs }, Array.isArray(content) ? el('span', {}, content) : content);
}
