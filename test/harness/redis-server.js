// Real redis-server processes for tests: each on a free loopback port, never a Redis the tests
// did not start. Installs Debian's package when it is missing and we may (root + apt).
// Plain JavaScript (typed by redis-server.d.ts) because jest's global setup loads it natively.
import { execFileSync, spawn } from "node:child_process";
import { createServer, Socket } from "node:net";
/** Installs Debian's redis-server when missing (root + apt), else explains what to install. */
function ensureRedisInstalled() {
  if (hasCommand("redis-server") && hasCommand("redis-cli")) return;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && hasCommand("apt-get")) {
    console.log("redis-server is missing: installing Debian's redis-server package...");
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
    execFileSync("apt-get", ["install", "-y", "-qq", "redis-server"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    return;
  }
  throw new Error("The tests need redis-server and redis-cli (Redis 7). Install them, e.g. `sudo apt-get install redis-server`, then run the tests again.");
}
function hasCommand(name) {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
/** Servers still running, killed if the test process exits without stopping them. */
const running = /* @__PURE__ */ new Set();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});
/**
 * A free port can be taken between freePort() and redis-server's bind (by another test worker's
 * outgoing connection, say): without a fixed port, a start that lost that race tries new ports,
 * and new arguments when they are made from the port (a cluster node's bus port).
 */
async function startRedisServer(options = {}) {
  ensureRedisInstalled();
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? await freePort();
    const args = typeof options.args === "function" ? await options.args(port) : options.args ?? [];
    try {
      return await startOn(port, args);
    } catch (error) {
      if (options.port !== void 0 || attempt >= 5 || !isPortTaken(error)) throw error;
    }
  }
}
/** Whether a start failed because its port (or a cluster node's bus port) was in use. */
function isPortTaken(error) {
  return /Address already in use/.test(String(error?.message));
}
async function startOn(port, args) {
  let child = await launch(port, args);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid;
    },
    stop: () => terminate(child),
    async restart() {
      await terminate(child);
      child = await launch(port, args);
    },
    pause: () => void child.kill("SIGSTOP"),
    resume: () => void child.kill("SIGCONT")
  };
}
/** Starts redis-server without persistence and waits until it answers PING. */
async function launch(port, args) {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning", ...args],
    { stdio: ["ignore", "pipe", "pipe"] }
  );
  running.add(child);
  // Redis logs to stdout; a failed start (a port in use, a bad argument) says why there.
  let output = "";
  const keep = (chunk) => output = (output + chunk.toString()).slice(-4e3);
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const closed = new Promise((resolve) => child.once("close", resolve));
  child.once("exit", () => running.delete(child));
  const deadline = Date.now() + 1e4;
  while (!await answersPing(port)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      await closed;
      throw new Error(`redis-server on port ${port} did not start: ${output.trim() || "no output"}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child;
}
async function terminate(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGCONT");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5e3);
  await exited;
  clearTimeout(timer);
}
function answersPing(port) {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, "127.0.0.1", () => socket.write("PING\r\n"));
    // A server started with --requirepass answers NOAUTH: it is up all the same.
    socket.once("data", (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}
export {
  ensureRedisInstalled,
  freePort,
  startRedisServer
};
