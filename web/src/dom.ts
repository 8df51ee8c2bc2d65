// A small element builder. Text is always set as text (never parsed as HTML), and nothing sets a
// style attribute or an inline handler: the gateway's Content-Security-Policy
// (default-src 'self') forbids inline styles and scripts, so looks come from styles.css classes.

type Child = Node | string | number | null | undefined | false;

export interface Attributes {
  class?: string | null;
  // Other attributes by name (id, type, href, for, aria-*, data-*...); false or null leaves it out.
  [name: string]: string | number | boolean | null | undefined | ((event: Event) => void);
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') {
      // on<event>: a listener added from the bundle, not an inline handler.
      element.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    } else if (name === 'class') {
      element.className = String(value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

// Replaces everything in `parent`.
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

// Sets a node's text only when it changed: the fleet table updates 1,000 rows this way.
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}
