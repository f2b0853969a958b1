// A small Fedify server used as an independent fediverse peer by tests/interop/test_fedify.py.
// One Person actor with RSA and Ed25519 keys, inbox listeners that log what they receive,
// a followers collection, and control endpoints under /control/ that the tests drive.
//
//   node peer.mjs --host 127.0.0.5 --port 8080 --actor alice
//   (or PEER_HOST / PEER_PORT / PEER_ACTOR in the environment)
//   FEDIFY_FIRST_KNOCK=rfc9421 (default) | draft-cavage-http-signatures-12
//
// It only ever talks to loopback addresses: any other outgoing fetch is refused and logged.
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { inspect, parseArgs } from "node:util";
import {
  createFederation,
  generateCryptoKeyPair,
  InProcessMessageQueue,
  MemoryKvStore,
} from "@fedify/fedify";
import {
  Accept,
  Announce,
  Create,
  Delete,
  Endpoints,
  Follow,
  isActor,
  Like,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Reject,
  Undo,
  Update,
} from "@fedify/vocab";
import { configure } from "@logtape/logtape";

const { values: args } = parseArgs({
  options: { host: { type: "string" }, port: { type: "string" }, actor: { type: "string" } },
});
const host = args.host ?? process.env.PEER_HOST ?? "127.0.0.1";
const port = Number(args.port ?? process.env.PEER_PORT ?? "8080");
const name = args.actor ?? process.env.PEER_ACTOR ?? "alice";
const firstKnock = process.env.FEDIFY_FIRST_KNOCK ?? "rfc9421";
const origin = `http://${host}:${port}`;

// What the tests read back through GET /control/log.
const received = []; // every activity an inbox listener got, as JSON-LD
const errors = []; // LogTape warnings and errors, inbox errors, refused fetches
const requests = []; // every outgoing HTTP request: method, url, signature spec, status
const followers = new Map(); // follower actor id -> actor object
const notes = new Map(); // note id (path segment) -> Note

const render = (message) =>
  message.map((part) => (typeof part === "string" ? part : inspect(part))).join("");

await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: {
    memory(record) {
      const entry = {
        level: record.level,
        category: record.category.join("."),
        message: render(record.message),
      };
      if (["warning", "error", "fatal"].includes(record.level)) errors.push(entry);
      if (record.level !== "debug" && record.level !== "trace") {
        process.stderr.write(`${entry.level} ${entry.category}: ${entry.message}\n`);
      }
    },
  },
  loggers: [
    { category: "fedify", lowestLevel: "debug", sinks: ["memory"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["memory"] },
  ],
});

// Record (and confine to loopback) every request Fedify makes.
const originalFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const headers = input instanceof Request ? input.headers : new Headers(init?.headers);
  const method = (input instanceof Request ? input.method : init?.method) ?? "GET";
  const spec = headers.has("signature-input")
    ? "rfc9421"
    : headers.has("signature")
      ? "draft-cavage"
      : null;
  const entry = { method, url: url.href, spec, status: null };
  requests.push(entry);
  // Names a test maps to 127.0.0.x in /etc/hosts (PEER_LOOPBACK_NAMES) are loopback too.
  const loopbackNames = (process.env.PEER_LOOPBACK_NAMES ?? "").split(",").filter(Boolean);
  if (
    !/^127\.\d+\.\d+\.\d+$/.test(url.hostname) &&
    url.hostname !== "localhost" &&
    !loopbackNames.includes(url.hostname)
  ) {
    errors.push({ level: "error", category: "peer.fetch", message: `refused ${url.href}` });
    throw new TypeError(`peer: refusing to fetch ${url.href} (loopback only)`);
  }
  const response = await originalFetch(input, init);
  entry.status = response.status;
  return response;
};

const federation = createFederation({
  kv: new MemoryKvStore(),
  queue: new InProcessMessageQueue(),
  allowPrivateAddress: true,
  origin,
  firstKnock,
});

const keyPairs = [
  await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
  await generateCryptoKeyPair("Ed25519"),
];

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== name) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: `Fedify peer ${identifier}`,
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((key) => key.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === name ? keyPairs : []));

federation.setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) =>
  identifier === name ? { items: [...followers.values()] } : null,
);

federation.setObjectDispatcher(Note, "/users/{identifier}/notes/{id}", (_ctx, values) =>
  values.identifier === name ? (notes.get(values.id) ?? null) : null,
);

const record = async (_ctx, activity) => {
  received.push(await activity.toJsonLd());
};

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    await record(ctx, follow);
    if (follow.objectId?.href !== ctx.getActorUri(name).href) return;
    const follower = await follow.getActor(ctx);
    if (!isActor(follower) || follower.id == null) return;
    followers.set(follower.id.href, follower);
    const accept = new Accept({
      id: new URL(`/activities/${randomUUID()}`, origin),
      actor: ctx.getActorUri(name),
      object: follow,
    });
    await ctx.sendActivity({ identifier: name }, follower, accept);
  })
  .on(Accept, record)
  .on(Reject, record)
  .on(Create, record)
  .on(Update, record)
  .on(Delete, record)
  .on(Announce, record)
  .on(Like, record)
  .on(Undo, async (ctx, undo) => {
    await record(ctx, undo);
    const undone = await undo.getObject(ctx);
    if (undone instanceof Follow && undo.actorId != null) followers.delete(undo.actorId.href);
  });
// Inbox failures are logged by Fedify at error level, so they land in `errors`.

async function control(method, path, body) {
  const ctx = federation.createContext(new URL(origin), undefined);
  if (method === "GET" && path === "/control/log") {
    const actor = ctx.getActorUri(name).href;
    return { actor, received, errors, requests, followers: [...followers.keys()] };
  }
  if (method === "POST" && path === "/control/follow") {
    const target = await ctx.lookupObject(body.target);
    if (!isActor(target)) return [404, { error: `no actor at ${body.target}` }];
    const follow = new Follow({
      id: new URL(`/activities/${randomUUID()}`, origin),
      actor: ctx.getActorUri(name),
      object: target.id,
      to: target.id,
    });
    await ctx.sendActivity({ identifier: name }, target, follow);
    return { id: follow.id.href };
  }
  if (method === "POST" && path === "/control/note") {
    const noteId = randomUUID();
    const note = new Note({
      id: ctx.getObjectUri(Note, { identifier: name, id: noteId }),
      attribution: ctx.getActorUri(name),
      content: body.content,
      to: PUBLIC_COLLECTION,
      cc: ctx.getFollowersUri(name),
    });
    notes.set(noteId, note);
    const create = new Create({
      id: new URL(`/activities/${randomUUID()}`, origin),
      actor: ctx.getActorUri(name),
      object: note,
      to: PUBLIC_COLLECTION,
      cc: ctx.getFollowersUri(name),
    });
    await ctx.sendActivity({ identifier: name }, "followers", create, { preferSharedInbox: true });
    return { id: create.id.href, object: note.id.href };
  }
  return [404, { error: `no control endpoint ${method} ${path}` }];
}

const server = createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, origin);
    if (url.pathname.startsWith("/control/")) {
      const answer = await control(req.method, url.pathname, body.length ? JSON.parse(body) : {});
      const [status, payload] = Array.isArray(answer) ? answer : [200, answer];
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
      return;
    }
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(url, { method: req.method, headers, body: hasBody ? body : null });
    const response = await federation.fetch(request, { contextData: undefined });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    errors.push({ level: "error", category: "peer.http", message: String(error?.stack ?? error) });
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end(String(error));
  }
});

server.listen(port, host, () => {
  process.stdout.write(`fedify peer ${name} listening on ${origin}\n`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
// Run by the tests with a pipe as stdin: exit when the test process goes away.
if (process.env.PEER_EXIT_ON_STDIN_EOF === "1") {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}
