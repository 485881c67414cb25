/* Pharmacy Cloud service worker (issue 18 §5; docs/notifications.md "Installable app and web push").
 *
 * Caches only the app shell: the build's hashed files under /assets/ (JS, CSS, fonts), the icons and the
 * manifest. Everything else goes to the network and is never stored: pages (HTML, which may show patient
 * data once the app fills them in), the REST API (/api/...), the event socket (/_event), uploads, health.
 * Also shows web push messages and opens the page a tap on one leads to.
 */
const SHELL = "pharmacy-shell-v1";
const SHELL_FILES = ["/manifest.json", "/icon-192.png", "/icon-512.png", "/favicon.ico"];

function cacheable(url, request) {
  if (request.method !== "GET" || url.origin !== self.location.origin) return false;
  if (request.mode === "navigate") return false; // pages: network only
  if (/^\/(api|_event|_upload|ping|health)(\/|$)/.test(url.pathname)) return false;
  return url.pathname.startsWith("/assets/") || SHELL_FILES.includes(url.pathname);
}

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== SHELL).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (!cacheable(url, event.request)) return; // the browser fetches it from the network as if we were not here
  event.respondWith(
    caches.open(SHELL).then(async (cache) => {
      const hit = await cache.match(event.request);
      if (hit) return hit; // hashed build files never change under the same name
      const answer = await fetch(event.request);
      if (answer.ok) cache.put(event.request, answer.clone());
      return answer;
    }),
  );
});

self.addEventListener("push", (event) => {
  let message = { title: "Pharmacy Cloud", body: "", url: "/" };
  try {
    message = { ...message, ...event.data.json() };
  } catch (e) {
    message.body = event.data ? event.data.text() : "";
  }
  event.waitUntil(
    self.registration.showNotification(message.title, {
      body: message.body, icon: "/icon-192.png", badge: "/icon-192.png", data: { url: message.url },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(self.clients.openWindow(target.href));
});
