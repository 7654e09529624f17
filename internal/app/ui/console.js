// localpipe's web console: one page, hash routes, live through server-sent events.
// Every value from the server goes into the page as text (textContent), never as HTML:
// records and object bodies are whatever clients sent.
"use strict";

const api = "api/";
const main = document.getElementById("main");

// h builds an element: h("td", {class: "x"}, "text", child…).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function table(headers, rows) {
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((t) => h("th", {}, t)))), h("tbody", {}, rows));
}

async function get(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await r.json().catch(() => ({ message: "HTTP " + r.status }));
  if (!r.ok) throw new Error(body.message || "HTTP " + r.status);
  return body;
}

function bytes(n) {
  if (n < 1024) return n + " B";
  if (n < 1 << 20) return (n / 1024).toFixed(1) + " KiB";
  return (n / (1 << 20)).toFixed(1) + " MiB";
}

function time(t) { return new Date(t).toLocaleTimeString(); }

function show(...nodes) { main.replaceChildren(...nodes); }

function failed(err) { show(h("p", { class: "bad" }, String(err.message || err))); }

const enc = encodeURIComponent;

// route is the current view, parsed from location.hash: #/section/name?query.
function route() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/").map(decodeURIComponent);
  return { section: parts[0] || "streams", name: parts.slice(1).join("/"), query: new URLSearchParams(query || "") };
}

// ---- streams ----

async function viewStreams() {
  const { streams } = await get(api + "streams");
  show(h("h1", {}, "Kinesis streams"),
    streams.length === 0 ? h("p", { class: "muted" }, "No streams yet.") :
      table(["stream", "status", "mode", "shards", "records", "puts/s"], streams.map((s) =>
        h("tr", { class: "stream" },
          h("td", {}, h("a", { href: "#/streams/" + enc(s.name) }, s.name)),
          h("td", {}, s.status), h("td", {}, s.mode), h("td", {}, s.shards.length),
          h("td", {}, s.records), h("td", {}, s.putRate.toFixed(1))))));
}

// tail holds the stream being watched: the next position per shard, and the record bodies.
let tail = null;

async function viewStream(name) {
  const { streams } = await get(api + "streams");
  const s = streams.find((x) => x.name === name);
  if (!s) throw new Error("no stream " + name);
  tail = { name, next: {}, bodies: {} };
  const sections = [];
  for (const sh of s.shards) {
    const body = h("tbody", { id: "records-" + sh.index });
    tail.bodies[sh.index] = body;
    sections.push(h("h2", {}, sh.id + " ", h("span", { class: "muted" }, "(" + sh.state + ")")),
      h("table", { class: "records" },
        h("thead", {}, h("tr", {}, ["position", "arrival", "partition key", "data"].map((t) => h("th", {}, t)))), body));
  }
  show(h("h1", {}, "Stream ", h("span", { class: "mono", id: "stream-name" }, s.name)),
    h("p", { class: "muted" }, `${s.status} · ${s.mode} · retention ${s.retentionHours} h · ${s.putRate.toFixed(1)} puts/s`),
    table(["shard", "hash keys", "state", "first", "tip"], s.shards.map((sh) => h("tr", {},
      h("td", { class: "mono" }, sh.id),
      h("td", { class: "mono" }, sh.startingHashKey + " – " + sh.endingHashKey),
      h("td", {}, sh.state), h("td", {}, sh.first), h("td", {}, sh.tip)))),
    ...sections);
  await Promise.all(s.shards.map((sh) => tailShard(sh.index, false)));
}

// tailShard adds the shard's records past what is shown (the last 50 at first).
async function tailShard(shard, flash) {
  const t = tail;
  const from = t.next[shard];
  const q = "?shard=" + shard + (from === undefined ? "" : "&from=" + from);
  const res = await get(api + "streams/" + enc(t.name) + "/records" + q);
  if (t !== tail) return;
  for (const r of res.records) {
    t.bodies[shard].append(h("tr", { class: "record" + (flash ? " record-new" : ""), title: r.sequenceNumber },
      h("td", {}, r.position), h("td", {}, time(r.arrival)), h("td", { class: "mono" }, r.partitionKey),
      h("td", {}, h("pre", { class: "data " + r.encoding }, r.encoding === "base64" ? "base64: " + r.data : pretty(r)))));
  }
  t.next[shard] = res.next;
}

function pretty(r) {
  if (r.encoding !== "json") return r.data;
  try { return JSON.stringify(JSON.parse(r.data), null, 2); } catch { return r.data; }
}

// ---- firehose ----

async function viewFirehose() {
  const { deliveryStreams } = await get(api + "firehose");
  const now = Date.now();
  show(h("h1", {}, "Firehose delivery streams"),
    deliveryStreams.length === 0 ? h("p", { class: "muted" }, "No delivery streams yet.") : "",
    ...deliveryStreams.map((d) => {
      const fill = d.sizeHintBytes > 0 ? Math.min(100, (100 * d.bufferedBytes) / d.sizeHintBytes) : 0;
      const next = d.nextDeliveryInSeconds === null ? "buffer empty" :
        h("span", { "data-deadline": now + d.nextDeliveryInSeconds * 1000 }, countdown(now + d.nextDeliveryInSeconds * 1000));
      return h("section", { class: "delivery-stream" },
        h("h2", {}, d.name + " ", h("span", { class: "muted" }, `(${d.status}, ${d.source ? "from " + d.source : "direct put"} → s3://${d.bucket}/${d.prefix})`)),
        h("p", {},
          "Buffer ", h("span", { class: "bar", title: fill.toFixed(0) + "%" }, h("span", { style: "width:" + fill + "%" })),
          ` ${bytes(d.bufferedBytes)} of ${bytes(d.sizeHintBytes)} or ${d.intervalSeconds} s · next delivery: `, next,
          ` · ${d.compression} `,
          h("button", { class: "flush", onclick: (e) => flush(d.name, e.target) }, "Flush")),
        d.recentDeliveries.length === 0 ? h("p", { class: "muted" }, "No deliveries yet.") :
          table(["time", "trigger", "records", "bytes", "keys"], d.recentDeliveries.map((x) => h("tr", {},
            h("td", {}, time(x.time)), h("td", {}, x.trigger), h("td", {}, x.records), h("td", {}, bytes(x.bytes)),
            h("td", {}, x.keys.map((k) => h("div", {}, h("a", { class: "mono", href: objectLink(x.bucket, k) }, k))))))));
    }));
}

function countdown(deadline) { return Math.max(0, Math.ceil((deadline - Date.now()) / 1000)) + " s"; }

async function flush(name, button) {
  button.disabled = true;
  try {
    const r = await fetch("/_localpipe/firehose/" + enc(name) + "/flush", { method: "POST" });
    const body = await r.json();
    if (!r.ok) throw new Error(body.message);
  } catch (err) {
    alert("Flush failed: " + err.message);
  }
  render();
}

// ---- buckets ----

function objectLink(bucket, key) { return "#/buckets/" + enc(bucket) + "?key=" + enc(key); }

async function viewBuckets() {
  const { buckets } = await get(api + "buckets");
  show(h("h1", {}, "S3 buckets"),
    buckets.length === 0 ? h("p", { class: "muted" }, "No buckets yet.") :
      table(["bucket", "created"], buckets.map((b) => h("tr", {},
        h("td", {}, h("a", { href: "#/buckets/" + enc(b.name) }, b.name)), h("td", {}, new Date(b.created).toLocaleString())))));
}

async function viewBucket(bucket, query) {
  const key = query.get("key");
  if (key) return viewObject(bucket, key);
  const prefix = query.get("prefix") || "";
  const q = new URLSearchParams({ prefix });
  if (query.get("after")) q.set("after", query.get("after"));
  const res = await get(api + "buckets/" + enc(bucket) + "/objects?" + q);
  const up = prefix.replace(/[^/]*\/$/, "");
  const base = "#/buckets/" + enc(bucket);
  show(h("h1", {}, "s3://" + bucket + "/" + prefix),
    h("form", { onsubmit: (e) => { e.preventDefault(); location.hash = base + "?prefix=" + enc(e.target.prefix.value); } },
      "Prefix ", h("input", { name: "prefix", value: prefix, size: 40 }), " ", h("button", {}, "Browse")),
    prefix ? h("p", {}, h("a", { href: base + "?prefix=" + enc(up) }, "↑ up")) : "",
    table(["key", "size", "last modified"], [
      ...res.prefixes.map((p) => h("tr", {}, h("td", {}, h("a", { href: base + "?prefix=" + enc(p) }, p)), h("td", {}), h("td", {}))),
      ...res.objects.map((o) => h("tr", { class: "object" },
        h("td", {}, h("a", { class: "mono", href: objectLink(bucket, o.key) }, o.key)),
        h("td", {}, bytes(o.size)), h("td", {}, new Date(o.lastModified).toLocaleString()))),
    ]),
    res.truncated ? h("a", { href: base + "?prefix=" + enc(prefix) + "&after=" + enc(res.next) }, "next page →") : "");
}

async function viewObject(bucket, key) {
  const p = await get(api + "buckets/" + enc(bucket) + "/preview?key=" + enc(key));
  const dl = api + "buckets/" + enc(bucket) + "/download?key=" + enc(key);
  const dir = key.includes("/") ? key.slice(0, key.lastIndexOf("/") + 1) : "";
  show(h("h1", {}, "s3://" + bucket + "/", h("span", { class: "mono", id: "object-key" }, key)),
    h("p", {}, h("a", { href: "#/buckets/" + enc(bucket) + "?prefix=" + enc(dir) }, "← " + (dir || bucket)), " · ",
      bytes(p.size), " · ", p.contentType || "no content type", " · compression: ", p.compression, " · ",
      h("a", { href: dl, download: "" }, "Download")),
    p.error ? h("p", { class: "bad" }, p.error) : "",
    h("pre", { id: "object-preview" }, p.encoding === "base64" ? "base64: " + p.data : p.data),
    p.truncated ? h("p", { class: "muted" }, "Only the first 64 KiB are shown.") : "");
}

// ---- REST APIs ----

async function viewAPIs() {
  const { apis, invocations } = await get(api + "apis");
  show(h("h1", {}, "REST APIs"),
    apis.length === 0 ? h("p", { class: "muted" }, "No APIs deployed yet.") : "",
    ...apis.flatMap((a) => a.stages.map((st) => h("section", { class: "api" },
      h("h2", {}, `${a.name} `, h("span", { class: "mono muted" }, `${a.id} · stage ${st.stage}`)),
      h("p", {}, "Invoke URLs: ", st.invokeUrls.map((u) => h("div", { class: "mono" }, u))),
      table(["method", "resource", "integration"], st.methods.map((m) => h("tr", {},
        h("td", {}, m.httpMethod), h("td", { class: "mono" }, m.resourcePath),
        h("td", { class: "mono" }, (m.integrationType || "none") + " " + (m.integrationUri || ""))))),
      testForm(a, st)))),
    h("h2", {}, "Recent invocations"),
    h("div", { id: "invocations" }, invocationList(invocations)));
}

// refreshInvocations redraws only the list, so a test request being written is kept.
async function refreshInvocations() {
  const el = document.getElementById("invocations");
  if (!el) return;
  const { invocations } = await get(api + "apis");
  el.replaceChildren(invocationList(invocations));
}

function invocationList(invocations) {
  if (invocations.length === 0) return h("p", { class: "muted" }, "None yet.");
  return table(["time", "request", "status", "integration request", "integration status"], invocations.map((v) => h("tr", { class: "invocation" },
    h("td", {}, time(v.time)),
    h("td", {}, h("div", {}, `${v.method} ${v.path}`), h("div", { class: "muted" }, `${v.apiId}/${v.stage} ${v.resourcePath || "(no resource)"}`),
      h("a", { class: "mono", href: "#/trace/" + enc(v.requestId) }, v.requestId)),
    h("td", { class: v.status >= 400 ? "bad" : "ok" }, v.status),
    h("td", {}, v.integrationRequest ? h("pre", {}, v.integrationRequest) : h("span", { class: "muted" }, "not rendered")),
    h("td", {}, v.integrationStatus || "—"))));
}

function testForm(a, st) {
  const out = h("div", {});
  const methods = [...new Set(st.methods.map((m) => m.httpMethod === "ANY" ? "GET" : m.httpMethod))];
  const first = st.methods.find((m) => m.httpMethod !== "OPTIONS") || st.methods[0];
  if (first) methods.sort((x, y) => (y === first.httpMethod) - (x === first.httpMethod));
  const form = h("form", { class: "test", onsubmit: async (e) => {
    e.preventDefault();
    // By elements: a form's own properties (method) hide fields of the same name.
    const f = e.target.elements;
    const url = "/restapis/" + enc(a.id) + "/" + enc(st.stage) + "/_user_request_" + f.path.value;
    const init = { method: f.method.value, headers: {} };
    if (f["content-type"].value) init.headers["Content-Type"] = f["content-type"].value;
    if (!["GET", "HEAD"].includes(init.method)) init.body = f.body.value;
    out.replaceChildren("sending…");
    try {
      const r = await fetch(url, init);
      const id = r.headers.get("x-amzn-RequestId");
      out.replaceChildren(h("p", {}, `HTTP ${r.status} · request id `,
        id ? h("a", { class: "mono", href: "#/trace/" + enc(id) }, id) : "none"), h("pre", {}, await r.text()));
    } catch (err) {
      out.replaceChildren(h("p", { class: "bad" }, err.message));
    }
  } },
    h("label", {}, "Method"), h("select", { name: "method" }, methods.map((m) => h("option", {}, m))),
    h("label", {}, "Path"), h("input", { name: "path", value: first ? first.resourcePath : "/" }),
    h("label", {}, "Content-Type"), h("input", { name: "content-type", value: "application/json" }),
    h("label", {}, "Body"), h("textarea", { name: "body" }, '{"hello": "world"}'),
    h("span", {}), h("button", {}, "Send test request"));
  return h("details", {}, h("summary", {}, "Send a test request"), form, out);
}

// ---- trace ----

async function viewTrace(id) {
  document.getElementById("search-id").value = id;
  const r = await fetch("/_localpipe/trace/" + enc(id));
  const body = await r.json().catch(() => null);
  if (!r.ok || !body || !Array.isArray(body.hops)) {
    show(h("h1", {}, "Trace ", h("span", { class: "mono" }, id)),
      h("p", { class: "bad", id: "trace-error" }, (body && body.message) || `no trace for this request id (HTTP ${r.status})`));
    return;
  }
  show(h("h1", {}, "Trace ", h("span", { class: "mono" }, body.requestId)),
    body.hops.length === 0 ? h("p", { class: "muted" }, "No hops recorded yet.") : "",
    ...body.hops.map((hop, i) => h("div", { class: "hop" },
      h("div", {}, h("span", { class: "svc" }, `${i + 1}. ${hop.service}`), " ", hopLink(hop)),
      h("pre", {}, JSON.stringify(hop, null, 2)))),
    h("p", { class: "muted" }, "Firehose adds its hop once it has delivered the record; flush to see it now."));
}

function hopLink(hop) {
  if (hop.bucket && hop.key) return h("a", { class: "hop-link mono", href: objectLink(hop.bucket, hop.key) }, `s3://${hop.bucket}/${hop.key}`);
  if (hop.streamName) return h("a", { class: "hop-link", href: "#/streams/" + enc(hop.streamName) }, hop.streamName + (hop.shardId ? " / " + hop.shardId : ""));
  if (hop.deliveryStreamName) return h("a", { class: "hop-link", href: "#/firehose" }, hop.deliveryStreamName);
  if (hop.apiId) return h("a", { class: "hop-link", href: "#/apis" }, `${hop.apiId}/${hop.stage} ${hop.resourcePath || ""} → ${hop.status}`);
  return "";
}

// ---- routing and live updates ----

let rendering = Promise.resolve();

function render() {
  const r = route();
  if (r.section !== "streams" || !r.name) tail = null;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.section === r.section);
  const views = {
    streams: () => (r.name ? viewStream(r.name) : viewStreams()),
    firehose: viewFirehose,
    buckets: () => (r.name ? viewBucket(r.name, r.query) : viewBuckets()),
    apis: viewAPIs,
    trace: () => viewTrace(r.name),
  };
  const view = views[r.section] || viewStreams;
  rendering = rendering.then(() => view().catch(failed));
  return rendering;
}

// refresh re-renders the current view for an event about section, at most one at a time.
let pending = false;
function refresh(section) {
  if (route().section !== section || pending) return;
  if (route().name && section !== "buckets") return;
  pending = true;
  rendering.then(() => { pending = false; render(); });
}

function listen() {
  const live = document.getElementById("live");
  const es = new EventSource("events");
  es.onopen = () => { live.textContent = "live"; live.classList.add("on"); };
  es.onerror = () => { live.textContent = "reconnecting…"; live.classList.remove("on"); };
  es.addEventListener("streams", (e) => {
    const tips = JSON.parse(e.data);
    if (tail && tips[tail.name]) {
      const t = tail;
      rendering = rendering.then(() => Promise.all(Object.keys(t.bodies).map((s) => tailShard(Number(s), true))).catch(failed));
    }
    refresh("streams");
  });
  es.addEventListener("buffers", () => refresh("firehose"));
  es.addEventListener("delivery", () => { refresh("firehose"); refresh("buckets"); });
  es.addEventListener("invocation", () => {
    if (route().section === "apis") rendering = rendering.then(refreshInvocations).catch(failed);
  });
}

document.getElementById("search").addEventListener("submit", (e) => {
  e.preventDefault();
  const id = document.getElementById("search-id").value.trim();
  if (id) location.hash = "#/trace/" + enc(id);
});
setInterval(() => {
  for (const el of document.querySelectorAll("[data-deadline]")) el.textContent = countdown(Number(el.dataset.deadline));
}, 1000);
window.addEventListener("hashchange", render);
render();
listen();
