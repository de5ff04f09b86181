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

/// libssl's own definition of `name` (the next one after this executable's), looked up once per
/// function: a function-local static, so concurrent first calls are safe.
template <class F>
F next_definition(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

int SSL_read(SSL* s, void* buf, int num) {
  static const auto f = next_definition<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return f(s, buf, num);
}

int SSL_write(SSL* s, const void* buf, int num) {
  static const auto f = next_definition<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return f(s, buf, num);
}

int SSL_accept(SSL* s) {
  static const auto f = next_definition<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return f(s);
}

int SSL_connect(SSL* s) {
  static const auto f = next_definition<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return f(s);
}

}  // extern "C"
