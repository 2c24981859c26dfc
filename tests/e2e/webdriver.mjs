// A small W3C WebDriver client for tauri-driver (Node 20 fetch); only what the E2E tests use.

const ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf";

export class WebDriverError extends Error {
  constructor(method, path, status, value) {
    super(`${method} ${path} -> HTTP ${status}: ${value?.error ?? ""} ${value?.message ?? JSON.stringify(value)}`);
    this.value = value;
  }
}

async function request(base, method, path, body) {
  // tauri-driver resets the connection when a body-less request carries Content-Type.
  // A hung WebDriver call fails the test instead of the whole run.
  const init = { method, signal: AbortSignal.timeout(Number(process.env.E2E_WD_TIMEOUT_MS ?? 60000)) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "Content-Type": "application/json" };
  }
  const response = await fetch(base + path, init);
  const text = await response.text();
  const json = text ? JSON.parse(text) : {};
  if (!response.ok) throw new WebDriverError(method, path, response.status, json.value);
  return json.value;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor(what, probe, { timeoutMs = 15000, intervalMs = 150 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ""}`);
}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  /** Starts the app: capabilities hold only `tauri:options` (no browserName). */
  static async start(base, application, args = []) {
    const value = await request(base, "POST", "/session", {
      capabilities: { alwaysMatch: { "tauri:options": { application, args } } },
    });
    return new Session(base, value.sessionId);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  async end() {
    await this.cmd("DELETE", "");
  }

  async find(css) {
    const found = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return new Element(this, found[ELEMENT_KEY]);
  }

  async findAll(css) {
    const found = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return found.map((ref) => new Element(this, ref[ELEMENT_KEY]));
  }

  /** Waits until `css` matches a displayed element, then returns it. */
  async waitFor(css, timeoutMs = 15000) {
    return waitFor(`element ${css}`, async () => {
      const [first] = await this.findAll(css);
      return first && (await first.displayed()) ? first : null;
    }, { timeoutMs });
  }

  async waitGone(css, timeoutMs = 15000) {
    await waitFor(`${css} to disappear`, async () => (await this.findAll(css)).length === 0, { timeoutMs });
  }

  execute(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  /**
   * A PNG of the window. WebKitGTK answers a screenshot after the next rendering update, which
   * never comes on an idle page without compositing; a nearly invisible 1-px element repainted
   * for a few seconds guarantees one.
   */
  async screenshot() {
    await this.execute(`
      let kick = document.getElementById("wd-repaint-kick");
      if (!kick) {
        kick = document.createElement("div");
        kick.id = "wd-repaint-kick";
        kick.style.cssText = "position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none;z-index:2147483647";
        document.body.appendChild(kick);
      }
      let n = 0;
      clearInterval(window.__wdRepaintKick);
      window.__wdRepaintKick = setInterval(() => {
        kick.style.background = n++ % 2 ? "rgba(128,128,128,0.02)" : "rgba(128,128,128,0.03)";
        if (n > 60) { clearInterval(window.__wdRepaintKick); kick.remove(); }
      }, 50);`);
    return Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
  }

  /** Scrolls an element to the middle of its scroll containers (dialogs scroll their body). */
  async reveal(element) {
    await this.execute(`arguments[0].scrollIntoView({ block: "center" })`, [{ [ELEMENT_KEY]: element.id }]);
    return element;
  }

  async click(css) {
    await (await this.reveal(await this.waitFor(css))).click();
  }

  /** Sets a text field's value as a paste would (one input event; newlines kept). */
  async paste(css, text) {
    const element = await this.reveal(await this.waitFor(css));
    await this.execute(
      `arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event("input", { bubbles: true }));`,
      [{ [ELEMENT_KEY]: element.id }, text],
    );
  }

  async type(css, text) {
    const element = await this.reveal(await this.waitFor(css));
    await element.clear();
    // WebKitWebDriver rejects an empty text ("Missing text parameter"): clearing is enough then.
    if (text !== "") await element.sendKeys(text);
  }

  async text(css) {
    return (await this.waitFor(css)).text();
  }
}

export class Element {
  constructor(session, id) {
    this.session = session;
    this.id = id;
  }

  cmd(method, path, body) {
    return this.session.cmd(method, `/element/${this.id}${path}`, body);
  }

  click() {
    return this.cmd("POST", "/click", {});
  }

  clear() {
    return this.cmd("POST", "/clear", {});
  }

  sendKeys(text) {
    return this.cmd("POST", "/value", { text });
  }

  text() {
    return this.cmd("GET", "/text");
  }

  attribute(name) {
    return this.cmd("GET", `/attribute/${encodeURIComponent(name)}`);
  }

  property(name) {
    return this.cmd("GET", `/property/${encodeURIComponent(name)}`);
  }

  displayed() {
    return this.cmd("GET", "/displayed");
  }

  async find(css) {
    const found = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return new Element(this.session, found[ELEMENT_KEY]);
  }

  async findAll(css) {
    const found = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return found.map((ref) => new Element(this.session, ref[ELEMENT_KEY]));
  }
}
