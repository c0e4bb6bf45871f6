/*
 * flow's process launcher without an interpreter: the protocol of LAUNCHER_SCRIPT (launcher-protocol.ts), spoken
 * by a small program that vforks and execs each job instead of a bash that forks a subshell for it (about 1.5 ms
 * less per program; bench/RESULTS.md). Built by scripts/build.mjs when a C compiler is there; flow uses bash when
 * it is not.
 *
 * fd 0: requests (the sentinel first); fd 1: the jobs' stdout; fd 2: /dev/null; fd 3: control (`pid N`, `exit N`,
 * `exit N retire`); fd 4: the jobs' stderr. A request is its size in bytes on a line, then that many bytes of
 * lines: C cwd, P path, U name to unset, E name=value, A argv item, each value with \\ and \n escaped. Values are
 * only ever passed to chdir and execve: nothing here is parsed as script.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define UNSUPPORTED_EXIT 3

/* flow sends at most 64 KiB (MAX_REQUEST_BYTES); a size line over 1 MiB, or not a number, ends the launcher. */
#define MAX_REQUEST 1048576

/* Out of memory ends the launcher: flow then fails over to starting programs itself. */
static void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (!p) _exit(1);
  return p;
}

static void *xrealloc(void *old, size_t n) {
  void *p = realloc(old, n);
  if (!p) _exit(1);
  return p;
}

static char inbuf[65536];
static size_t inlen, inpos;

/* The next byte of stdin, or -1 at its end. */
static int next_byte(void) {
  if (inpos == inlen) {
    ssize_t n;
    do n = read(0, inbuf, sizeof inbuf); while (n < 0 && errno == EINTR);
    if (n <= 0) return -1;
    inlen = (size_t)n;
    inpos = 0;
  }
  return (unsigned char)inbuf[inpos++];
}

/* A line of stdin without its newline (malloc'd), or NULL at the end of input. */
static char *read_line(size_t *len) {
  size_t cap = 64, n = 0;
  char *s = xmalloc(cap);
  for (int c; (c = next_byte()) != '\n';) {
    if (c < 0) { free(s); return NULL; }
    if (n + 1 >= cap) s = xrealloc(s, cap *= 2);
    s[n++] = (char)c;
  }
  s[n] = 0;
  if (len) *len = n;
  return s;
}

static char *read_exactly(size_t size) {
  char *s = xmalloc(size + 1);
  for (size_t i = 0; i < size; i++) {
    int c = next_byte();
    if (c < 0) { free(s); return NULL; }
    s[i] = (char)c;
  }
  s[size] = 0;
  return s;
}

/* Decodes \\ and \n in place (what encodeRequest escapes). */
static char *decode(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r == '\\' && r[1] == 'n') { *w++ = '\n'; r++; }
    else if (*r == '\\' && r[1] == '\\') { *w++ = '\\'; r++; }
    else *w++ = *r;
  }
  *w = 0;
  return s;
}

/* Writes all of `s` to `fd`, waiting out a descriptor that a program left non-blocking. */
static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      struct pollfd p = {fd, POLLOUT, 0};
      poll(&p, 1, 1000);
      continue;
    }
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

static void say(int fd, const char *s) { write_all(fd, s, strlen(s)); }

struct list { char **items; size_t n, cap; };

static void push(struct list *l, char *item) {
  if (l->n + 2 > l->cap) l->items = xrealloc(l->items, (l->cap = l->cap ? l->cap * 2 : 16) * sizeof(char *));
  l->items[l->n++] = item;
  l->items[l->n] = NULL;
}

static int named(const char *entry, const char *name) {
  size_t k = strlen(name);
  return strncmp(entry, name, k) == 0 && (entry[k] == '=' || entry[k] == 0);
}

/*
 * The launcher's environment without the names unset or set by the request, then the request's settings. PWD names
 * the directory the job starts in, as a shell sets it when it changes there (so does the bash launcher), unless the
 * request sets or unsets PWD itself.
 */
static void job_environment(struct list *env, struct list *unsets, struct list *sets, char *pwd) {
  int own_pwd = 0;
  for (size_t i = 0; i < unsets->n; i++) own_pwd |= named(unsets->items[i], "PWD");
  for (size_t i = 0; i < sets->n; i++) own_pwd |= named(sets->items[i], "PWD");
  for (char **e = environ; *e; e++) {
    int drop = named(*e, "PWD");
    for (size_t i = 0; i < unsets->n && !drop; i++) drop = named(*e, unsets->items[i]);
    for (size_t i = 0; i < sets->n && !drop; i++) {
      const char *eq = strchr(sets->items[i], '=');
      size_t k = eq ? (size_t)(eq - sets->items[i]) : strlen(sets->items[i]);
      drop = strncmp(*e, sets->items[i], k) == 0 && (*e)[k] == '=';
    }
    if (!drop) push(env, *e);
  }
  for (size_t i = 0; i < sets->n; i++) push(env, sets->items[i]);
  if (!own_pwd) push(env, pwd);
}

/*
 * `path` under `cwd`, as bash makes a relative command path absolute (one leading ./ dropped, the rest left to the
 * kernel): a script then sees the same absolute $0 under either launcher, and one named -d/tool is not taken for an
 * option by its interpreter.
 */
static char *absolute_path(const char *cwd, const char *path) {
  if (strncmp(path, "./", 2) == 0) path += 2;
  char *out = xmalloc(strlen(cwd) + strlen(path) + 2);
  sprintf(out, "%s/%s", cwd, path);
  return out;
}

/* Waits for the job's end; a stopped job is waited through, and if flow goes meanwhile so does the launcher. */
static int wait_job(pid_t pid, pid_t parent) {
  int st;
  for (;;) {
    pid_t r = waitpid(pid, &st, WUNTRACED);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return 127;
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    /* Stopped: look again every 0.1 s until it ends or runs again. */
    for (;;) {
      poll(NULL, 0, 100);
      if (getppid() != parent) _exit(0);
      r = waitpid(pid, &st, WNOHANG | WUNTRACED | WCONTINUED);
      if (r == pid && WIFEXITED(st)) return WEXITSTATUS(st);
      if (r == pid && WIFSIGNALED(st)) return 128 + WTERMSIG(st);
      if (r == pid && WIFCONTINUED(st)) break;
      if (r < 0 && errno != EINTR) return 127;
    }
  }
}

/*
 * Starts the job in a process group of its own, stdin from /dev/null and stderr to fd 4. vfork: the launcher waits
 * while the child, sharing its memory, makes only system calls until execve; an exec that fails leaves its errno in
 * `exec_errno` for the launcher to report. A file without a #! line runs under /bin/sh, as execvp runs it (its $0 is
 * then the absolute path; bash would run it itself, with $0 the name the step gave).
 */
static pid_t start_job(const char *cwd, const char *path, char *const argv[], size_t argc, char *const envp[],
                       int devnull, volatile int *exec_errno) {
  pid_t pid = vfork();
  if (pid != 0) return pid;
  setpgid(0, 0);
  if (chdir(cwd) != 0) _exit(1);
  dup2(devnull, 0);
  dup2(4, 2);
  close(3);
  close(4);
  execve(path, argv, envp);
  if (errno == ENOEXEC) {
    char *sh_argv[argc + 2];
    sh_argv[0] = "/bin/sh";
    sh_argv[1] = (char *)path;
    for (size_t i = 1; i <= argc; i++) sh_argv[i + 1] = argv[i];
    execve("/bin/sh", sh_argv, envp);
  }
  *exec_errno = errno;
  _exit(errno == ENOENT ? 127 : 126);
}

static int nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK);
}

int main(void) {
  if (fcntl(3, F_GETFD) < 0 || fcntl(4, F_GETFD) < 0) return UNSUPPORTED_EXIT;
  signal(SIGPIPE, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  pid_t parent = getppid();
  size_t sentinel_len;
  char *sentinel = read_line(&sentinel_len);
  if (!sentinel) return 0;
  /* Given under another name, as to bash, which would read it at start. */
  const char *bash_env = getenv("__flow_env_BASH_ENV");
  if (bash_env) {
    setenv("BASH_ENV", bash_env, 1);
    unsetenv("__flow_env_BASH_ENV");
  }
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) return UNSUPPORTED_EXIT;
  for (char *size_line; (size_line = read_line(NULL)); free(size_line)) {
    /* As bash's `read -N` does, anything but a number ends the launcher. */
    size_t size_len = strlen(size_line);
    if (size_len == 0 || size_len > 7 || strspn(size_line, "0123456789") != size_len) break;
    size_t size = strtoul(size_line, NULL, 10);
    if (size > MAX_REQUEST) break;
    char *request = read_exactly(size);
    if (!request) break;
    char *cwd = "", *path = "";
    struct list unsets = {0}, sets = {0}, argv = {0}, env = {0};
    for (char *line = request, *nl; *line; line = nl + 1) {
      nl = strchr(line, '\n');
      if (!nl) break;
      *nl = 0;
      char *value = line + 1;
      switch (line[0]) {
        case 'C': cwd = decode(value); break;
        case 'P': path = decode(value); break;
        case 'U': push(&unsets, value); break;
        case 'E': push(&sets, decode(value)); break;
        case 'A': push(&argv, decode(value)); break;
      }
    }
    if (!argv.items) push(&argv, path);
    char *absolute = NULL;
    if (path[0] != '/') path = absolute = absolute_path(cwd, path);
    char *pwd = xmalloc(strlen(cwd) + 5);
    strcpy(pwd, "PWD=");
    strcat(pwd, cwd);
    job_environment(&env, &unsets, &sets, pwd);

    volatile int exec_errno = 0;
    pid_t pid = start_job(cwd, path, argv.items, argv.n, env.items, devnull, &exec_errno);
    /* No process for the job (EAGAIN): ending tells flow, which starts it itself. */
    if (pid < 0) return 1;
    setpgid(pid, pid);
    char msg[64];
    snprintf(msg, sizeof msg, "pid %d\n", (int)pid);
    say(3, msg);
    int rc = wait_job(pid, parent);
    kill(-pid, SIGKILL);
    if (exec_errno) {
      /* What a shell says: the path and the reason, on the step's stderr. */
      say(4, path);
      say(4, ": ");
      say(4, strerror(exec_errno));
      say(4, "\n");
    }
    /* The jobs share these sockets: once a program has left one non-blocking, this launcher ends after the job. */
    int retire = nonblocking(1) || nonblocking(4);
    write_all(1, sentinel, sentinel_len);
    write_all(4, sentinel, sentinel_len);
    snprintf(msg, sizeof msg, "exit %d%s\n", rc, retire ? " retire" : "");
    say(3, msg);
    free(request);
    free(unsets.items);
    free(sets.items);
    free(argv.items);
    free(env.items);
    free(pwd);
    free(absolute);
    if (retire) return 0;
  }
  return 0;
}
