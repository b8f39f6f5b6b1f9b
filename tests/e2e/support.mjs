// Shared set-up for end-to-end tests. tauri-driver starts the app from its own environment,
// so scripts/e2e.sh gives each test file its own driver and a fresh CAPSTAN_HOME; sessions
// started again within one file (the app restarted) share that home.
import { remote } from "webdriverio";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";

export const artifacts = process.env.CAPSTAN_E2E_ARTIFACTS ?? join(process.cwd(), "artifacts");
mkdirSync(artifacts, { recursive: true });

export async function startApp() {
  const application = process.env.CAPSTAN_APP_BIN;
  if (!application) throw new Error("CAPSTAN_APP_BIN is not set; run through scripts/e2e.sh");
  const browser = await remote({
    hostname: "127.0.0.1",
    port: Number(process.env.CAPSTAN_E2E_DRIVER_PORT ?? 4444),
    logLevel: "warn",
    capabilities: { "tauri:options": { application } },
  });
  return browser;
}

/** The whole X screen (the real window as WebKitGTK drew it), next to wdio's page shot. */
export function screenshotScreen(name) {
  const file = join(artifacts, `${name}-screen.png`);
  try {
    execFileSync("import", ["-window", "root", file]);
  } catch (e) {
    console.log(`# could not grab the X screen: ${e.message}`);
  }
  return file;
}

export async function waitForText(element, predicate, timeout = 20000) {
  await element.waitUntil(async () => predicate(await element.getText()), {
    timeout,
    timeoutMsg: `text did not match in ${timeout} ms`,
  });
  return element.getText();
}

/** The page as wdio sees it and the whole X screen, both under `name` in the artifacts. */
export async function screenshots(browser, name) {
  await browser.saveScreenshot(join(artifacts, `${name}.png`));
  return screenshotScreen(name);
}

const byTestIdSelector = (id) => `[data-testid="${id}"]`;

/** textContent read in the page (WebKitWebDriver's element text hides some styled spans). */
export function textOfTestId(browser, id) {
  return browser.execute((sel) => document.querySelector(sel)?.textContent ?? "", byTestIdSelector(id));
}

/** An attribute read in the page; null when the element is missing. */
export function attributeOfTestId(browser, id, name) {
  return browser.execute((sel, attr) => document.querySelector(sel)?.getAttribute(attr) ?? null, byTestIdSelector(id), name);
}

/** Waits until the element `id` has attribute `name` equal to `value`. */
export async function waitForAttribute(browser, id, name, value, timeout = 30000) {
  let last = null;
  try {
    await browser.waitUntil(
      async () => {
        last = await attributeOfTestId(browser, id, name);
        return last === value;
      },
      { timeout },
    );
  } catch (error) {
    // The message is built here: waitUntil's timeoutMsg is fixed before the first poll.
    throw new Error(`${id} ${name} stayed ${JSON.stringify(last)}, wanted ${JSON.stringify(value)} (${timeout} ms)`, { cause: error });
  }
}

/**
 * Sets a React-controlled <input>/<textarea>/<select> value the way typing does: the native
 * value setter, then `input` and `change` events. WebKitWebDriver drops keys in long strings.
 * Returns the value the element holds afterwards.
 */
export function setValueOfTestId(browser, id, value) {
  return browser.execute(
    (sel, text) => {
      const el = document.querySelector(sel);
      if (!el) throw new Error(`${sel} is not on the page`);
      const proto = Object.getPrototypeOf(el);
      Object.getOwnPropertyDescriptor(proto, "value").set.call(el, text);
      el.dispatchEvent(new Event("input", { bubbles: true }));
      el.dispatchEvent(new Event("change", { bubbles: true }));
      return el.value;
    },
    byTestIdSelector(id),
    value,
  );
}

/**
 * Chooses a file on an <input type="file"> built in the page from `text` (WebKitWebDriver
 * cannot send file paths), then fires `change` as the file dialog does.
 */
export function chooseFileOnTestId(browser, id, fileName, text) {
  return browser.execute(
    (sel, name, content) => {
      const input = document.querySelector(sel);
      if (!input) throw new Error(`${sel} is not on the page`);
      const file = new File([content], name, { type: "application/x-yaml" });
      try {
        const transfer = new DataTransfer();
        transfer.items.add(file);
        input.files = transfer.files;
      } catch {
        // No DataTransfer constructor in this web view: a FileList stand-in is enough for onChange.
        Object.defineProperty(input, "files", { configurable: true, value: [file] });
      }
      // Read before the change: the page may clear the input once it has taken the file.
      const chosen = input.files?.[0]?.name ?? null;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      return chosen;
    },
    byTestIdSelector(id),
    fileName,
    text,
  );
}

/**
 * Process ids of the app under test: CAPSTAN_APP_BIN running with this run's CAPSTAN_HOME
 * (other apps on a shared machine are not ours).
 */
export function appProcesses() {
  const application = realpathSync(process.env.CAPSTAN_APP_BIN);
  const home = `CAPSTAN_HOME=${process.env.CAPSTAN_HOME}`;
  const ours = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/exe`) !== application) continue;
      if (readFileSync(`/proc/${entry}/environ`, "latin1").split("\0").includes(home)) ours.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return ours;
}

// Sends WM_DELETE_WINDOW to every X window of a process: what a window manager does when the
// user clicks the close button (Xvfb has no window manager). Python's ctypes + libX11, since
// node has no X client and xdotool (2016) can only destroy windows, not ask them to close.
const CLOSE_WINDOWS_PY = String.raw`
import ctypes as C, sys
pid = int(sys.argv[1])
x = C.cdll.LoadLibrary("libX11.so.6")
x.XOpenDisplay.restype = C.c_void_p; x.XOpenDisplay.argtypes = [C.c_char_p]
x.XDefaultRootWindow.restype = C.c_ulong; x.XDefaultRootWindow.argtypes = [C.c_void_p]
x.XInternAtom.restype = C.c_ulong; x.XInternAtom.argtypes = [C.c_void_p, C.c_char_p, C.c_int]
x.XQueryTree.argtypes = [C.c_void_p, C.c_ulong, C.POINTER(C.c_ulong), C.POINTER(C.c_ulong), C.POINTER(C.POINTER(C.c_ulong)), C.POINTER(C.c_uint)]
x.XGetWindowProperty.argtypes = [C.c_void_p, C.c_ulong, C.c_ulong, C.c_long, C.c_long, C.c_int, C.c_ulong, C.POINTER(C.c_ulong), C.POINTER(C.c_int), C.POINTER(C.c_ulong), C.POINTER(C.c_ulong), C.POINTER(C.POINTER(C.c_ubyte))]
x.XFree.argtypes = [C.c_void_p]
x.XSendEvent.argtypes = [C.c_void_p, C.c_ulong, C.c_int, C.c_long, C.c_void_p]
x.XFlush.argtypes = [C.c_void_p]
d = x.XOpenDisplay(None)
if not d: sys.exit("cannot open the X display")
NET_WM_PID = x.XInternAtom(d, b"_NET_WM_PID", 0)
WM_PROTOCOLS = x.XInternAtom(d, b"WM_PROTOCOLS", 0)
WM_DELETE_WINDOW = x.XInternAtom(d, b"WM_DELETE_WINDOW", 0)
CARDINAL, CLIENT_MESSAGE = 6, 33
def pid_of(w):
    t, f, n, a, data = C.c_ulong(), C.c_int(), C.c_ulong(), C.c_ulong(), C.POINTER(C.c_ubyte)()
    if x.XGetWindowProperty(d, w, NET_WM_PID, 0, 1, 0, CARDINAL, C.byref(t), C.byref(f), C.byref(n), C.byref(a), C.byref(data)) != 0 or n.value == 0:
        return None
    value = C.cast(data, C.POINTER(C.c_long))[0]
    x.XFree(data)
    return value
def windows_of(w):
    root, parent, kids, n = C.c_ulong(), C.c_ulong(), C.POINTER(C.c_ulong)(), C.c_uint()
    if not x.XQueryTree(d, w, C.byref(root), C.byref(parent), C.byref(kids), C.byref(n)): return []
    children = [kids[i] for i in range(n.value)]
    if kids: x.XFree(kids)
    found = []
    for c in children:
        found.extend([c] if pid_of(c) == pid else windows_of(c))
    return found
class ClientMessage(C.Structure):
    _fields_ = [("type", C.c_int), ("serial", C.c_ulong), ("send_event", C.c_int), ("display", C.c_void_p),
                ("window", C.c_ulong), ("message_type", C.c_ulong), ("format", C.c_int), ("l", C.c_long * 5)]
class XEvent(C.Union):
    _fields_ = [("xclient", ClientMessage), ("pad", C.c_long * 24)]
windows = windows_of(x.XDefaultRootWindow(d))
if not windows: sys.exit(f"process {pid} has no X window")
for w in windows:
    ev = XEvent()
    ev.xclient.type, ev.xclient.window, ev.xclient.message_type, ev.xclient.format = CLIENT_MESSAGE, w, WM_PROTOCOLS, 32
    ev.xclient.l[0] = WM_DELETE_WINDOW
    x.XSendEvent(d, w, 0, 0, C.byref(ev))
x.XFlush(d)
print(len(windows))
`;

/**
 * Asks the app's windows to close, as the user does with the title bar's close button, so the
 * app quits the normal way (ending the WebDriver session instead kills it outright). Returns
 * how many windows were asked.
 */
export function closeAppWindows(pid) {
  try {
    return Number(execFileSync("python3", ["-c", CLOSE_WINDOWS_PY, String(pid)], { encoding: "utf8" }).trim());
  } catch (e) {
    throw new Error(`could not ask the app's windows to close (needs python3 and libX11): ${e.stderr || e.message}`);
  }
}
