// WARC reader (storage/warc.hpp) on arbitrary files, plain or gzip, with digest verification, and
// http_payload on arbitrary HTTP messages. The input is written to an in-memory file (memfd) and
// opened by its /proc path. Checks: no memory error, no undefined behaviour, reading stops (at most
// 1000 records), every error is one line (corpus/warc/multiline_error was a finding).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "storage/warc.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace crawld;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)storage::http_payload(in);

  int fd = memfd_create("warc-fuzz", 0);
  if (fd < 0) return 0;
  std::size_t off = 0;
  while (off < size) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0) break;
    off += std::size_t(w);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  auto r = storage::warc_reader::open(path);
  if (!r && r.message().find('\n') != std::string::npos)
    crawld::fuzz::fail("error message not one line", r.message());
  if (r) {
    for (int i = 0; i < 1000; ++i) {
      auto rec = (*r)->next(true);
      if (!rec) {
        if (rec.message().empty() || rec.message().find('\n') != std::string::npos)
          crawld::fuzz::fail("error message not one line", rec.message());
        break;
      }
      if (!*rec) break;
      (void)(*rec)->type();
      (void)(*rec)->id();
      (void)storage::http_payload((*rec)->block);
    }
  }
  close(fd);
  return 0;
}
