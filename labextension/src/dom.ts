/**
 * Tiny DOM builders: the panel is plain DOM and SVG, no framework and no chart library.
 */

type Child = Node | string | null | undefined | false;

export interface IProps {
  className?: string;
  text?: string;
  attrs?: Record<string, string>;
}

/**
 * Props for one line of text that may be long (a URL, a path, a job ID): cut with an ellipsis to
 * the width available, the whole text on hover (title) and for screen readers.
 */
export function clipped(text: string, className = ''): IProps {
  return {
    className: className ? `jp-RemoteDev-clip ${className}` : 'jp-RemoteDev-clip',
    text,
    attrs: { title: text }
  };
}

function append(parent: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    parent.append(child);
  }
}

/**
 * An HTML element with a class, text, attributes and children.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: IProps = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) {
    node.className = props.className;
  }
  if (props.text !== undefined) {
    node.textContent = props.text;
  }
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    node.setAttribute(name, value);
  }
  append(node, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * An SVG element with attributes and children.
 */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

/** Names in messages: variables, settings, options (JUPYTER_X_Y, cost_backend, c.A.b, --x-y). */
const NAME = /((?:--)?[A-Za-z][A-Za-z0-9]*(?:[_.-][A-Za-z0-9]+)*[_.][A-Za-z0-9]{2,})/;

/** Names longer than this may break after a separator; shorter ones move to the next line whole. */
const LONG_NAME = 24;

/**
 * Message text with its names in `<code>`: never broken mid-word, long ones only after `_` or `.`.
 */
export function withNames(text: string): Node[] {
  return text.split(NAME).map((part, index) => {
    if (index % 2 === 0) {
      return document.createTextNode(part);
    }
    const code = h('code', { className: 'jp-RemoteDev-name' });
    const pieces = part.length > LONG_NAME ? part.split(/(?<=[_.])/) : [part];
    for (const piece of pieces) {
      code.append(piece, document.createElement('wbr'));
    }
    code.lastChild?.remove();
    return code;
  });
}

/**
 * A status message block; errors are announced (role=alert), the rest politely (role=status).
 */
export function notice(
  kind: 'loading' | 'info' | 'error',
  title: string,
  detail?: string
): HTMLElement {
  return h(
    'div',
    {
      className: `jp-RemoteDev-notice jp-RemoteDev-notice-${kind}`,
      attrs: kind === 'error' ? { role: 'alert' } : { role: 'status', 'aria-live': 'polite' }
    },
    h('div', { className: 'jp-RemoteDev-noticeTitle', text: title }),
    detail ? h('div', { className: 'jp-RemoteDev-noticeDetail' }, ...withNames(detail)) : null
  );
}

/**
 * A section with a heading (the landmark screen readers list) and a body that is re-rendered.
 */
export function section(
  id: string,
  title: string,
  tools: Child[] = []
): {
  node: HTMLElement;
  body: HTMLElement;
} {
  const headingId = `jp-RemoteDev-${id}-heading`;
  const body = h('div', { className: 'jp-RemoteDev-sectionBody' });
  const node = h(
    'section',
    {
      className: `jp-RemoteDev-section jp-RemoteDev-${id}`,
      attrs: { 'aria-labelledby': headingId, 'data-state': 'loading' }
    },
    h(
      'div',
      { className: 'jp-RemoteDev-sectionHeader' },
      h('h3', { className: 'jp-RemoteDev-sectionTitle', text: title, attrs: { id: headingId } }),
      h('div', { className: 'jp-RemoteDev-tools' }, ...tools)
    ),
    body
  );
  return { node, body };
}
