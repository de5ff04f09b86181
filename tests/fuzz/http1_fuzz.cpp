// The incremental HTTP/1.x response parser (fetch/http1_parser.hpp) on arbitrary server bytes.
// Input: byte 0 picks the head cap (64, 1024 or 256 KiB by (b & 3) % 3) and no_body (b & 4);
// byte 1 gives k = b & 7, the number of piece-size bytes that follow (k = 0: one byte at a time);
// the rest is what the server sent. The stream is parsed twice, fed at once and in pieces (sizes
// cycled), response after response: after `done`, `reset` and the bytes left over are the next
// response's (at most 64), `finish` at the end of the stream. Checks: both ways give the same
// responses (state, error, head, body, bytes consumed; consumed only while not failed, since
// the count on failure is not promised), `feed` consumes at most n and less only in done/failed,
// then 0 more (and a zero-length feed changes nothing), `on_head` once per accepted head and the
// same as `head()`, body pieces inside the consumed part of the caller's buffer, `head_bytes` within
// the cap, 3-digit status and version, trimmed field values, the Content-Length framing computed
// independently from the fields (body length, malformed/conflicting values), consumed = head
// bytes + body except for chunked bodies, and `finish` (on a copy, at points along the way, and at
// the end) leaves done or failed; at once, each response after a `reset` is what a fresh parser
// makes of the rest.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "base/ascii.hpp"
#include "fetch/http1_parser.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace crawld;
using fetch::http1_parser;
using st = http1_parser::state;

namespace {

bool is_ows(char c) { return c == ' ' || c == '\t'; }

/// Framing from the head's fields, computed here without the parser's code.
struct framing {
  bool bodyless = false;  // no_body, 1xx, 204, 304
  bool has_te = false;    // a Transfer-Encoding field (any value): Content-Length is ignored
  bool has_cl = false;    // a Content-Length field
  bool cl_valid = false;  // every comma-separated element 1-18 digits, all the same number
  std::uint64_t cl = 0;
};

framing framing_of(const fetch::response_head& h, bool no_body) {
  framing f;
  f.bodyless = no_body || (h.status >= 100 && h.status < 200) || h.status == 204 || h.status == 304;
  bool ok = true, seen = false;
  for (const auto& [k, v] : h.fields) {
    if (iequals(k, "Transfer-Encoding")) f.has_te = true;
    if (!iequals(k, "Content-Length")) continue;
    f.has_cl = true;
    std::string_view list(v);
    while (ok) {
      const auto comma = list.find(',');
      const auto el = trim_ows(list.substr(0, comma));
      if (el.empty() || el.size() > 18) ok = false;
      std::uint64_t n = 0;
      for (char c : el) {
        if (c < '0' || c > '9') ok = false;
        n = n * 10 + static_cast<std::uint64_t>(static_cast<unsigned char>(c) - '0');
      }
      if (!ok) break;
      if (seen && n != f.cl) ok = false;
      seen = true;
      f.cl = n;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  f.cl_valid = f.has_cl && ok;
  return f;
}

struct record {
  st state = st::head;  // before finish
  std::string error;
  bool got_head = false;
  fetch::response_head head;
  std::string body;
  std::size_t consumed = 0;
  st finished = st::head;  // after finish
  std::string finish_error;
};

bool same_head(const fetch::response_head& a, const fetch::response_head& b) {
  return a.version_minor == b.version_minor && a.status == b.status && a.reason == b.reason && a.fields == b.fields;
}

const char* name(st s) {
  switch (s) {
    case st::head: return "head";
    case st::body: return "body";
    case st::done: return "done";
    case st::failed: return "failed";
  }
  return "?";
}

// finish() leaves done or failed: done exactly when the body runs until the close (or already done).
void check_finish(http1_parser& p) {
  const st before = p.current();
  const bool close_delimited = p.close_delimited();
  const std::string error = p.error();
  p.finish();
  const st after = p.current();
  if (after != st::done && after != st::failed) fuzz::fail("finish left neither done nor failed", name(after));
  if (before == st::done && after != st::done) fuzz::fail("finish undid done");
  if (before == st::failed && (after != st::failed || p.error() != error)) fuzz::fail("finish changed a failure");
  if (before == st::head && after != st::failed) fuzz::fail("finish in the head did not fail");
  if (before == st::body && (after == st::done) != close_delimited)
    fuzz::fail("finish mid-body: done iff close-delimited");
  if ((after == st::failed) == p.error().empty()) fuzz::fail("error text iff failed after finish", p.error());
}

// Invariants of one response's parser and record that hold at any point (between feeds).
void check_state(const http1_parser& p, const record& r, std::size_t cap, bool no_body) {
  const st s = p.current();
  if (p.head_bytes() > cap) fuzz::fail("head_bytes beyond the cap");
  if ((s == st::failed) == p.error().empty()) fuzz::fail("error text iff failed", p.error());
  const bool accepted = s == st::body || s == st::done;
  if (accepted != r.got_head && s != st::failed) fuzz::fail("on_head not called exactly once for an accepted head");
  if (s == st::head && (r.consumed != p.head_bytes() || !r.body.empty()))
    fuzz::fail("in the head, consumed != head_bytes or a body piece");
  if (s == st::failed && (p.error().rfind("malformed Content-Length", 0) == 0 ||
                          p.error().rfind("conflicting Content-Length", 0) == 0)) {
    const framing f = framing_of(p.head(), no_body);  // the head parsed, its framing refused
    if (r.got_head || f.bodyless || f.has_te || !f.has_cl || f.cl_valid)
      fuzz::fail("a Content-Length refused that is valid here", p.error());
  }
  if (!r.got_head) {
    if (!r.body.empty()) fuzz::fail("body before the head");
    return;
  }
  const auto& h = p.head();
  if (!same_head(h, r.head)) fuzz::fail("head() differs from the head passed to on_head");
  // 100..999: a status below 100 is rejected (0 is what fetch::response means by "no response").
  if (h.status < 100 || h.status > 999) fuzz::fail("status outside 100..999");
  if (h.status >= 100 && h.status < 200 && h.status != 101) fuzz::fail("an interim 1xx head handed out");
  if (h.version_minor < 0 || h.version_minor > 9) fuzz::fail("version not one digit");
  if (h.reason.find('\n') != std::string::npos) fuzz::fail("reason with a line feed", h.reason);
  for (const auto& [k, v] : h.fields) {
    if (k.empty() || k.find(':') != std::string::npos || k.find('\n') != std::string::npos || is_ows(k.front()) ||
        is_ows(k.back()))
      fuzz::fail("malformed field name", k);
    if (v.find('\n') != std::string::npos || (!v.empty() && (is_ows(v.front()) || is_ows(v.back()))))
      fuzz::fail("field value with a line feed or not trimmed", v);
  }
  (void)h.keep_alive();
  (void)h.field("content-type");
  if (s == st::failed) return;  // failed in a chunked body: framing was accepted, nothing more to say
  const framing f = framing_of(h, no_body);
  if (f.bodyless) {
    if (s != st::done || !r.body.empty()) fuzz::fail("a body-less response not done at once");
  } else if (!f.has_te) {
    if (f.has_cl && !f.cl_valid) fuzz::fail("head accepted with an invalid Content-Length");
    if (f.cl_valid == p.close_delimited()) fuzz::fail("Content-Length and close-delimited disagree");
    if (f.cl_valid) {
      if (s == st::done && r.body.size() != f.cl) fuzz::fail("done with a body not Content-Length long");
      if (s == st::body && r.body.size() >= f.cl) fuzz::fail("body complete but not done");
    }
  }
  const std::size_t framed = p.head_bytes() + r.body.size();
  if (r.consumed < framed || ((!f.has_te || p.close_delimited()) && r.consumed != framed))
    fuzz::fail("consumed != head bytes + body (not chunked)");
}

bool same_record(const record& a, const record& b) {
  return a.state == b.state && a.error == b.error && a.got_head == b.got_head && (!a.got_head || same_head(a.head, b.head)) &&
         a.body == b.body && a.consumed == b.consumed && a.finished == b.finished && a.finish_error == b.finish_error;
}

/// One response from a fresh parser fed `in` at once, then finish: what a reset parser must match.
record fresh_response(std::string_view in, std::size_t cap, bool no_body) {
  record r;
  http1_parser p(cap);
  if (no_body) p.reset(true);
  r.consumed = p.feed(
    in.data(), in.size(),
    [&](const fetch::response_head& h) {
      r.got_head = true;
      r.head = h;
      return true;
    },
    [&](std::string_view b) {
      r.body.append(b);
      return true;
    });
  r.state = p.current();
  r.error = p.error();
  p.finish();
  r.finished = p.current();
  r.finish_error = p.error();
  return r;
}

/// Parses `in` response after response; `sizes` empty: at once, else the piece sizes, cycled.
std::vector<record> run(std::string_view in, std::size_t cap, bool no_body, const std::vector<std::size_t>& sizes) {
  std::vector<record> out;
  http1_parser p(cap);
  if (no_body) p.reset(true);  // else the constructor's state is the first response's
  record cur, fresh;
  bool compare_fresh = false;  // at once, after a reset: the response must be a fresh parser's
  std::size_t pos = 0, piece = 0;
  int finish_probes = 0;
  bool stop = false;
  // The current response is over (done, failed, or the input ended): record how it ended.
  auto close_record = [&] {
    cur.state = p.current();
    cur.error = p.error();
    check_finish(p);
    cur.finished = p.current();
    cur.finish_error = p.error();
    if (compare_fresh && !same_record(cur, fresh)) fuzz::fail("a reset parser differs from a fresh one");
    out.push_back(std::move(cur));
  };
  while (!stop && pos < in.size()) {
    const std::size_t len = sizes.empty() ? in.size() - pos : std::min(sizes[piece++ % sizes.size()], in.size() - pos);
    std::size_t left = len;
    while (!stop && left > 0) {
      const char* d = in.data() + pos;
      if (!sizes.empty()) {  // a zero-length feed changes nothing
        const st before = p.current();
        const std::size_t hb = p.head_bytes();
        bool called = false;
        if (p.feed(d, 0, [&](const fetch::response_head&) { return called = true; },
                   [&](std::string_view) { return called = true; }) != 0 ||
            called || p.current() != before || p.head_bytes() != hb)
          fuzz::fail("a zero-length feed did something");
      }
      std::vector<std::string_view> pieces;
      const std::size_t used = p.feed(
        d, left,
        [&](const fetch::response_head& h) {
          if (cur.got_head) fuzz::fail("on_head called twice for one response");
          cur.got_head = true;
          cur.head = h;
          if (&h != &p.head()) fuzz::fail("on_head's head is not head()");
          return true;
        },
        [&](std::string_view b) {
          pieces.push_back(b);
          return true;
        });
      if (used > left) fuzz::fail("feed consumed more than n");
      const st s = p.current();
      if (used < left && s != st::done && s != st::failed) fuzz::fail("feed stopped short in state", name(s));
      for (auto b : pieces) {
        if (b.data() < d || b.data() + b.size() > d + used) fuzz::fail("body piece outside the consumed bytes");
        cur.body.append(b);
      }
      pos += used;
      left -= used;
      cur.consumed += used;
      check_state(p, cur, cap, no_body);
      if (!sizes.empty() && finish_probes < 16 && s != st::done && s != st::failed) {
        ++finish_probes;
        http1_parser copy = p;
        check_finish(copy);
      }
      if (s != st::done && s != st::failed) continue;
      // The rest is the next response's (done) or abandoned (failed): nothing more is taken.
      const std::string_view rest = pos < in.size() ? in.substr(pos) : std::string_view("HTTP/1.1 200 OK\r\n\r\n");
      const std::string error = p.error();
      bool called = false;
      if (p.feed(rest.data(), rest.size(), [&](const fetch::response_head&) { return called = true; },
                 [&](std::string_view) { return called = true; }) != 0 ||
          called || p.current() != s || p.error() != error)
        fuzz::fail("feed after done/failed consumed or changed something");
      close_record();
      cur = record{};
      if (s == st::failed || out.size() == 64) {
        stop = true;
        break;
      }
      p.reset(no_body);
      check_state(p, cur, cap, no_body);
      if (sizes.empty()) {
        fresh = fresh_response(in.substr(pos), cap, no_body);
        compare_fresh = true;
      }
    }
  }
  if (!stop) close_record();  // the connection closed
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::size_t at = 0;
  const unsigned cfg = size > at ? data[at++] : 0;
  static const std::size_t caps[] = {64, 1024, 256u << 10};
  const std::size_t cap = caps[(cfg & 3) % 3];
  const bool no_body = (cfg & 4) != 0;
  const unsigned k = size > at ? data[at++] & 7 : 0;
  std::vector<std::size_t> sizes;
  for (unsigned i = 0; i < k && at < size; ++i) {
    const unsigned b = data[at++];
    sizes.push_back(std::size_t(1 + (b & 31)) << ((b >> 5) * 2));  // 1..32 << 0..14
  }
  if (sizes.empty()) sizes.push_back(1);
  const std::string_view in(reinterpret_cast<const char*>(data) + at, size - at);

  const auto whole = run(in, cap, no_body, {});
  const auto split = run(in, cap, no_body, sizes);
  if (whole.size() != split.size())
    fuzz::fail("a different number of responses at once and in pieces",
               std::to_string(whole.size()) + " vs " + std::to_string(split.size()));
  for (std::size_t i = 0; i < whole.size(); ++i) {
    const auto& a = whole[i];
    const auto& b = split[i];
    if (a.state != b.state) fuzz::fail("a different state at once and in pieces", std::string(name(a.state)) + " vs " + name(b.state));
    if (a.error != b.error) fuzz::fail("a different error at once and in pieces", a.error + " | " + b.error);
    if (a.got_head != b.got_head || (a.got_head && !same_head(a.head, b.head)))
      fuzz::fail("a different head at once and in pieces");
    if (a.body != b.body) fuzz::fail("a different body at once and in pieces");
    if (a.state != st::failed && a.consumed != b.consumed)
      fuzz::fail("a different count of consumed bytes at once and in pieces",
                 std::to_string(a.consumed) + " vs " + std::to_string(b.consumed));
    if (a.finished != b.finished || a.finish_error != b.finish_error)
      fuzz::fail("a different state after finish at once and in pieces", a.finish_error + " | " + b.finish_error);
  }
  return 0;
}
