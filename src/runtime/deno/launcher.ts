/**
 * Notices when the launcher of `deno task start` went away.
 *
 * `npx -y deno@… task start` runs `npm exec` → `sh -c deno task start` → `deno task` → this
 * process. A SIGTERM to the `npm exec` PID (what a process manager does) is passed to `sh`, which
 * dies without passing it on; `deno task` is re-parented and keeps this server running. `deno
 * task` itself does forward SIGTERM, so the only sign left is that `deno task`'s parent changed.
 *
 * Linux only: it reads `/proc/<pid>/stat` and `/cmdline` through libc (`--allow-ffi`, which the
 * start task grants for libSQL anyway), because Deno's file API wants `--allow-all` for `/proc`.
 * Elsewhere, without glibc, and when this process was not started by `deno task`, nothing is
 * watched.
 *
 * @module
 */

/** How often the parent chain is read, in milliseconds. */
export const LAUNCHER_POLL_MS = 250;

/** Reads small `/proc` files through libc's open/read/close. */
interface ProcReader {
  read(path: string): string | null;
}

/** Opens libc (glibc's `libc.so.6`), or null when it cannot be loaded. */
function procReader(): ProcReader | null {
  let lib;
  try {
    lib = Deno.dlopen(
      "libc.so.6",
      {
        open: { parameters: ["buffer", "i32"], result: "i32" },
        read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
        close: { parameters: ["i32"], result: "i32" },
      } as const,
    );
  } catch {
    return null;
  }
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(4096);
  return {
    read(path) {
      const fd = lib.symbols.open(encoder.encode(path + "\0"), 0);
      if (fd < 0) return null;
      try {
        const n = Number(lib.symbols.read(fd, buffer, BigInt(buffer.length)));
        return n < 0 ? null : decoder.decode(buffer.subarray(0, n));
      } finally {
        lib.symbols.close(fd);
      }
    },
  };
}

/** The parent PID of `pid` from `/proc/<pid>/stat`, or null when it is gone or unreadable. */
function parentOf(proc: ProcReader, pid: number): number | null {
  const stat = proc.read(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // "pid (comm) state ppid …": comm may contain spaces and parentheses, so split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : null;
}

/** Whether `pid` runs `deno task …` (its command line's second word is `task`). */
function isDenoTask(proc: ProcReader, pid: number): boolean {
  const args = proc.read(`/proc/${pid}/cmdline`)?.split("\0") ?? [];
  return args[1] === "task" && /(^|\/)deno$/.test(args[0]);
}

/**
 * Calls `onGone` once when the process that started our `deno task` parent exits (the parent is
 * re-parented) or the parent itself exits.
 *
 * @returns a function that stops watching; a no-op when nothing is watched
 */
export function watchLauncher(onGone: () => void): () => void {
  if (Deno.build.os !== "linux") return () => {};
  const proc = procReader();
  const task = Deno.ppid;
  if (!proc || !isDenoTask(proc, task)) return () => {};
  const launcher = parentOf(proc, task);
  if (launcher === null || launcher <= 1) return () => {};
  const timer = setInterval(() => {
    if (parentOf(proc, task) !== launcher) {
      clearInterval(timer);
      onGone();
    }
  }, LAUNCHER_POLL_MS);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
