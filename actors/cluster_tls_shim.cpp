// Works around a bug of CAF 0.17's openssl session (docs/cluster.md, "TLS"): after a failed TLS
// handshake (a client without TLS connecting to a TLS coordinator) it leaves the failure in the
// multiplexer thread's OpenSSL error queue; OpenSSL's SSL_get_error(3) reads that queue first, so
// the next SSL_read on that thread that only needs more bytes (SSL_ERROR_WANT_READ) is reported
// as SSL_ERROR_SSL and CAF closes a healthy member's connection. OpenSSL requires the queue to be
// empty before each TLS I/O call; CAF 0.17 does not empty it, so this process does: these
// definitions interpose libssl's (the executable's symbols come first for the shared libraries
// that reference them, libcaf_openssl among them) and clear the calling thread's queue before
// calling the real function. Any other OpenSSL user in the process (cpp-httplib) gets the same
// recommended behaviour. Pulled into a binary by cluster.cpp's reference to
// cluster_tls_shim_linked().
#include <dlfcn.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace crawld::actors {
bool cluster_tls_shim_linked() { return true; }
}  // namespace crawld::actors

namespace {

template <class F>
F real(F& cache, const char* name) {
  if (!cache)
    cache = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
  return cache;
}

}  // namespace

extern "C" {

int SSL_read(SSL* s, void* buf, int num) {
  static int (*f)(SSL*, void*, int) = nullptr;
  ERR_clear_error();
  return real(f, "SSL_read")(s, buf, num);
}

int SSL_write(SSL* s, const void* buf, int num) {
  static int (*f)(SSL*, const void*, int) = nullptr;
  ERR_clear_error();
  return real(f, "SSL_write")(s, buf, num);
}

int SSL_accept(SSL* s) {
  static int (*f)(SSL*) = nullptr;
  ERR_clear_error();
  return real(f, "SSL_accept")(s);
}

int SSL_connect(SSL* s) {
  static int (*f)(SSL*) = nullptr;
  ERR_clear_error();
  return real(f, "SSL_connect")(s);
}

}  // extern "C"
