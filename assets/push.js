/* Installable app and web push, the page's side (docs/notifications.md "Installable app and web push").
 *
 * Registers /sw.js for the whole origin, and offers window.pharmacyPush.subscribe(vapidPublicKey): asks the
 * person's permission, subscribes this browser with the Push API and answers the subscription as a JSON
 * string (PushSubscription.toJSON()) for the server to store, or "error:<why>" when it cannot.
 *
 * Tests: a browser here reaches no real push service, so the browser tests replace
 * PushManager.prototype.subscribe (Playwright's add_init_script) with one answering a subscription whose
 * endpoint is the local push-service stand-in; everything else below runs as in production.
 */
(function () {
  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  function deviceName() {
    const ua = navigator.userAgent;
    const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrome\//.test(ua) ? "Chrome"
      : /Safari\//.test(ua) ? "Safari" : "Browser";
    const system = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Windows/.test(ua) ? "Windows"
      : /Mac OS/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
    return system ? browser + " on " + system : browser;
  }

  function register() {
    if (!("serviceWorker" in navigator)) return Promise.resolve(null);
    return navigator.serviceWorker.register("/sw.js", { scope: "/" });
  }

  async function subscribe(vapidPublicKey) {
    try {
      if (!vapidPublicKey) return "error:not-configured";
      if (!("serviceWorker" in navigator) || !("PushManager" in window)) return "error:unsupported";
      if ("Notification" in window && Notification.permission !== "granted") {
        const answer = await Notification.requestPermission();
        if (answer !== "granted") return "error:denied";
      }
      await register();
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(vapidPublicKey),
      });
      const json = typeof subscription.toJSON === "function" ? subscription.toJSON() : subscription;
      return JSON.stringify({ subscription: json, device: deviceName() });
    } catch (e) {
      return "error:" + ((e && e.name) || "failed");
    }
  }

  window.pharmacyPush = { subscribe: subscribe, register: register };
  if (document.readyState === "complete") register();
  else window.addEventListener("load", () => register());
})();
