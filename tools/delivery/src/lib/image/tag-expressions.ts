/**
 * The small Handlebars subset docker/metadata-action evaluates inside tag rules:
 * `{{name}}` and `{{name 'positional' key='value'}}`. Anything else is refused with the rule named,
 * instead of silently rendering an empty string.
 */
export class TagExpressionError extends Error {}

export interface HelperCall {
  name: string;
  args: string[];
  hash: Record<string, string>;
}

export type Helper = (call: HelperCall) => string;

const EXPRESSION = /\{\{\s*([^{}]*?)\s*\}\}/g;
const TOKEN = /\s*(?:([A-Za-z_][\w-]*)=)?(?:'([^']*)'|"([^"]*)"|([^\s'"=]+))/y;

function parseCall(body: string): HelperCall {
  const parts: { key?: string; value: string; quoted: boolean }[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < body.length) {
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(body);
    if (!match || match.index !== start) throw new TagExpressionError(`cannot read "{{${body}}}"`);
    const value = match[2] ?? match[3] ?? match[4] ?? '';
    parts.push({ key: match[1], value, quoted: match[4] === undefined });
    if (/^\s*$/.test(body.slice(TOKEN.lastIndex))) break;
  }
  const [head, ...rest] = parts;
  if (!head || head.key !== undefined || head.quoted) throw new TagExpressionError(`cannot read "{{${body}}}"`);
  const call: HelperCall = { name: head.value, args: [], hash: {} };
  for (const part of rest) {
    if (part.key !== undefined) call.hash[part.key] = part.value;
    else call.args.push(part.value);
  }
  return call;
}

/** Render `template`, calling `helpers[name]` for each expression; unknown names are refused. */
export function renderExpressions(template: string, helpers: Record<string, Helper>): string {
  return template.replace(EXPRESSION, (_whole, body: string) => {
    const call = parseCall(body);
    const helper = helpers[call.name];
    if (!helper) {
      throw new TagExpressionError(
        `unknown expression "{{${body}}}"; available here: ${Object.keys(helpers)
          .map((name) => `{{${name}}}`)
          .join(', ')}`,
      );
    }
    return helper(call);
  });
}

/** True when the whole template is exactly one `{{name}}` expression. */
export function isSingleExpression(template: string, name: string): boolean {
  const match = /^\{\{\s*([^{}]*?)\s*\}\}$/.exec(template.trim());
  return !!match && match[1] === name;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  weekday: number;
  /** Minutes east of UTC. */
  offset: number;
}

function zonedParts(date: Date, timeZone: string): ZonedParts {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
  } catch {
    throw new TagExpressionError(`unknown time zone tz='${timeZone}'; use an IANA name such as 'UTC' or 'Asia/Tokyo'`);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(date)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const p = (name: string) => parts[name] ?? 0;
  const asUtc = Date.UTC(p('year'), p('month') - 1, p('day'), p('hour'), p('minute'), p('second'));
  const offset = Math.round((asUtc - (date.getTime() - date.getUTCMilliseconds())) / 60_000);
  return {
    year: p('year'),
    month: p('month'),
    day: p('day'),
    hour: p('hour'),
    minute: p('minute'),
    second: p('second'),
    millisecond: date.getUTCMilliseconds(),
    weekday: new Date(Date.UTC(p('year'), p('month') - 1, p('day'))).getUTCDay(),
    offset,
  };
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

function ordinal(day: number): string {
  const tens = day % 100;
  if (tens >= 11 && tens <= 13) return `${day}th`;
  return `${day}${['th', 'st', 'nd', 'rd'][day % 10] ?? 'th'}`;
}

function offsetText(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`;
}

const DATE_TOKEN = /\[([^\]]*)]|YYYY|YY|Q|MMMM|MMM|MM|M|Do|DD|D|dddd|ddd|d|HH|H|hh|h|mm|m|ss|s|SSS|SS|S|A|a|ZZ|Z|X|x/g;

/** Format `date` with moment.js display tokens (the format metadata-action documents) in `timeZone`. */
export function formatMomentDate(date: Date, format: string, timeZone = 'UTC'): string {
  const z = zonedParts(date, timeZone);
  const hour12 = z.hour % 12 === 0 ? 12 : z.hour % 12;
  return format.replace(DATE_TOKEN, (token, literal: string | undefined) => {
    if (literal !== undefined) return literal;
    switch (token) {
      case 'YYYY':
        return pad(z.year, 4);
      case 'YY':
        return pad(z.year % 100);
      case 'Q':
        return String(Math.floor((z.month - 1) / 3) + 1);
      case 'MMMM':
        return MONTHS[z.month - 1] as string;
      case 'MMM':
        return (MONTHS[z.month - 1] as string).slice(0, 3);
      case 'MM':
        return pad(z.month);
      case 'M':
        return String(z.month);
      case 'Do':
        return ordinal(z.day);
      case 'DD':
        return pad(z.day);
      case 'D':
        return String(z.day);
      case 'dddd':
        return WEEKDAYS[z.weekday] as string;
      case 'ddd':
        return (WEEKDAYS[z.weekday] as string).slice(0, 3);
      case 'd':
        return String(z.weekday);
      case 'HH':
        return pad(z.hour);
      case 'H':
        return String(z.hour);
      case 'hh':
        return pad(hour12);
      case 'h':
        return String(hour12);
      case 'mm':
        return pad(z.minute);
      case 'm':
        return String(z.minute);
      case 'ss':
        return pad(z.second);
      case 's':
        return String(z.second);
      case 'SSS':
        return pad(z.millisecond, 3);
      case 'SS':
        return pad(Math.floor(z.millisecond / 10));
      case 'S':
        return String(Math.floor(z.millisecond / 100));
      case 'A':
        return z.hour < 12 ? 'AM' : 'PM';
      case 'a':
        return z.hour < 12 ? 'am' : 'pm';
      case 'ZZ':
        return offsetText(z.offset, false);
      case 'Z':
        return offsetText(z.offset, true);
      case 'X':
        return String(Math.floor(date.getTime() / 1000));
      case 'x':
        return String(date.getTime());
      default:
        return token;
    }
  });
}

/** A `{{date 'FORMAT' tz='Zone'}}`-style helper over a fixed instant. */
export function dateHelper(instant: Date): Helper {
  return (call) => {
    for (const key of Object.keys(call.hash)) {
      if (key !== 'tz')
        throw new TagExpressionError(`unknown attribute ${key}= in {{${call.name}}}; only tz= is allowed`);
    }
    const format = call.args[0];
    if (format === undefined)
      throw new TagExpressionError(`{{${call.name}}} needs a format, e.g. {{${call.name} 'YYYYMMDD'}}`);
    return formatMomentDate(instant, format, call.hash['tz'] ?? 'UTC');
  };
}
