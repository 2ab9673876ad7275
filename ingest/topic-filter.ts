/**
 * MQTT topic filter matching (MQTT 3.1.1 §4.7): `+` matches one level, a trailing
 * `#` matches the rest. `$share/<group>/` prefixes are stripped; topics starting
 * with `$` never match wildcards at the first level.
 */

/**
 * The filter as a test of topics. The filter's levels are split once; a topic is
 * walked level by level in place, without splitting it into strings (the pipeline asks
 * for every message).
 */
export function compileTopicFilter(filter: string): (topic: string) => boolean {
  const levels = (filter.startsWith('$share/') ? filter.split('/').slice(2) : filter.split('/'));
  const wildcardFirst = levels[0] === '+' || levels[0] === '#';
  return (topic) => {
    if (wildcardFirst && topic.startsWith('$')) return false;
    // `start` is where the topic's next level begins; past the end when none is left.
    let start = 0;
    for (const level of levels) {
      if (level === '#') return true;
      if (start > topic.length) return false;
      let end = topic.indexOf('/', start);
      if (end < 0) end = topic.length;
      if (level !== '+' && (end - start !== level.length || !topic.startsWith(level, start))) return false;
      start = end + 1;
    }
    return start > topic.length;
  };
}
