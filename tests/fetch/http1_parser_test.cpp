#include "fetch/http1_parser.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "fetch/session.hpp"
#include "helpers.hpp"
#include "raw_server.hpp"

namespace crawld::fetch {

/// gtest prints parser states by name.
inline void PrintTo(http1_parser::state s, std::ostream* os) {
  switch (s) {
    case http1_parser::state::head: *os << "head"; return;
    case http1_parser::state::body: *os << "body"; return;
    case http1_parser::state::done: *os << "done"; return;
    case http1_parser::state::failed: *os << "failed"; return;
  }
  *os << "state(" << static_cast<int>(s) << ")";
}

namespace {

using namespace std::chrono_literals;
using state = http1_parser::state;

/// What one run of the parser over some bytes gave.
struct outcome {
  state st = state::head;
  int heads = 0;            ///< on_head calls
  int body_calls = 0;       ///< on_body calls
  response_head head;       ///< the last head handed out
  std::string body;         ///< the body pieces, joined
  std::string error;
  std::size_t consumed = 0; ///< bytes feed() reported consumed, summed
};

/// Feeds `bytes` to `p` in pieces ending at `cuts` (ascending offsets) and at the end, stopping
/// at the first piece not consumed whole; then finish() when `close`.
outcome feed_pieces(http1_parser& p, std::string_view bytes, const std::vector<std::size_t>& cuts,
                    bool close = false) {
  outcome o;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(bytes.size());
  std::size_t start = 0;
  for (const std::size_t end : ends) {
    if (end < start || end > bytes.size()) continue;
    const std::size_t n = end - start;
    const std::size_t used = p.feed(
        bytes.data() + start, n,
        [&](const response_head& h) {
          ++o.heads;
          o.head = h;
          return true;
        },
        [&](std::string_view piece) {
          ++o.body_calls;
          o.body.append(piece);
          return true;
        });
    o.consumed += used;
    start = end;
    if (used < n) break;
  }
  if (close) p.finish();
  o.st = p.current();
  o.error = p.error();
  return o;
}

/// A fresh parser over `bytes` in one piece.
outcome parse_whole(std::string_view bytes, bool close = false, std::size_t cap = 256u << 10) {
  http1_parser p(cap);
  return feed_pieces(p, bytes, {}, close);
}

/// A fresh parser over `bytes` one byte at a time.
outcome parse_bytewise(std::string_view bytes, bool close = false, std::size_t cap = 256u << 10) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < bytes.size(); ++i) cuts.push_back(i);
  http1_parser p(cap);
  return feed_pieces(p, bytes, cuts, close);
}

/// Asserts that `got` is the same parse as `want` (state, head, body, bytes consumed).
void expect_same(const outcome& want, const outcome& got, const std::string& where) {
  EXPECT_EQ(got.st, want.st) << where;
  EXPECT_EQ(got.heads, want.heads) << where;
  EXPECT_EQ(got.head.status, want.head.status) << where;
  EXPECT_EQ(got.head.version_minor, want.head.version_minor) << where;
  EXPECT_EQ(got.head.reason, want.head.reason) << where;
  EXPECT_EQ(got.head.fields, want.head.fields) << where;
  EXPECT_EQ(got.body, want.body) << where;
  EXPECT_EQ(got.error, want.error) << where;
  EXPECT_EQ(got.consumed, want.consumed) << where;
}

/// Every split of `bytes` into two pieces, and byte by byte, parses as the whole does.
void expect_every_split_same(std::string_view bytes, const outcome& whole, bool close = false) {
  for (std::size_t i = 0; i <= bytes.size(); ++i) {
    http1_parser p;
    expect_same(whole, feed_pieces(p, bytes, {i}, close), "split at " + std::to_string(i));
    if (::testing::Test::HasFailure()) return;  // one report, not hundreds
  }
  expect_same(whole, parse_bytewise(bytes, close), "one byte at a time");
}

std::string with_length(const std::string& head_fields, const std::string& body) {
  return "HTTP/1.1 200 OK\r\n" + head_fields + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const std::string html = "<html><body>hello, parser</body></html>";

const std::string chunked_response =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/html\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Trailer: X-Checksum\r\n"
    "\r\n"
    "5;name=value\r\n"
    "hello\r\n"
    "1A ; quoted=\"a;b\" ; flag\r\n"
    "abcdefghijklmnopqrstuvwxyz\r\n"
    "0003\r\n"
    "!!!\r\n"
    "0;last=1\r\n"
    "X-Checksum: 1234\r\n"
    "X-Other: y\r\n"
    "\r\n";
const std::string chunked_payload = "helloabcdefghijklmnopqrstuvwxyz!!!";

// --- Content-Length -------------------------------------------------------------------------

TEST(http1_parser, rfc9112_6_3_content_length_body_is_delivered_and_response_done) {
  const std::string bytes = with_length("Content-Type: text/html\r\nX-Spaced:   padded value \t\r\n", html);
  const outcome o = parse_whole(bytes);
  EXPECT_EQ(o.st, state::done) << o.error;
  EXPECT_EQ(o.heads, 1);
  EXPECT_EQ(o.head.version_minor, 1);
  EXPECT_EQ(o.head.status, 200);
  EXPECT_EQ(o.head.reason, "OK");
  ASSERT_EQ(o.head.fields.size(), 3u);
  EXPECT_EQ(o.head.fields[0], (std::pair<std::string, std::string>{"Content-Type", "text/html"}));
  EXPECT_EQ(o.head.fields[1], (std::pair<std::string, std::string>{"X-Spaced", "padded value"}));
  EXPECT_EQ(o.head.field("content-type"), "text/html");
  EXPECT_EQ(o.head.field("CONTENT-LENGTH"), std::to_string(html.size()));
  EXPECT_EQ(o.head.field("Absent"), "");
  EXPECT_EQ(o.body, html);
  EXPECT_EQ(o.consumed, bytes.size());
  EXPECT_EQ(o.error, "");
}

TEST(http1_parser, rfc9112_6_3_content_length_response_split_at_every_position_gives_same_head_and_body) {
  const std::string bytes = with_length("Content-Type: text/html\r\nX-A: 1\r\n", html);
  const outcome whole = parse_whole(bytes);
  ASSERT_EQ(whole.st, state::done) << whole.error;
  ASSERT_EQ(whole.body, html);
  expect_every_split_same(bytes, whole);
}

TEST(http1_parser, content_length_response_split_at_every_pair_of_positions_gives_same_head_and_body) {
  const std::string bytes = with_length("X-A: 1\r\n", "0123456789");
  const outcome whole = parse_whole(bytes);
  ASSERT_EQ(whole.st, state::done) << whole.error;
  for (std::size_t i = 0; i <= bytes.size(); ++i)
    for (std::size_t j = i; j <= bytes.size(); ++j) {
      http1_parser p;
      expect_same(whole, feed_pieces(p, bytes, {i, j}), "split at " + std::to_string(i) + "," + std::to_string(j));
      if (HasFailure()) return;
    }
}

TEST(http1_parser, rfc9112_6_3_zero_content_length_is_done_at_the_end_of_the_head) {
  const std::string bytes = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  const outcome o = parse_whole(bytes);
  EXPECT_EQ(o.st, state::done) << o.error;
  EXPECT_EQ(o.body_calls, 0);
  EXPECT_EQ(o.consumed, bytes.size());
}

TEST(http1_parser, rfc9110_8_6_repeated_identical_content_length_is_accepted) {
  for (const std::string fields : {"Content-Length: 5, 5\r\n", "Content-Length: 5\r\nContent-Length: 5\r\n"}) {
    const outcome o = parse_whole("HTTP/1.1 200 OK\r\n" + fields + "\r\nhello");
    EXPECT_EQ(o.st, state::done) << fields << o.error;
    EXPECT_EQ(o.body, "hello") << fields;
  }
}

TEST(http1_parser, missing_or_empty_reason_phrase_is_accepted) {
  for (const std::string line : {"HTTP/1.1 200", "HTTP/1.1 200 ", "HTTP/1.0 404"}) {
    const outcome o = parse_whole(line + "\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(o.st, state::done) << line << ": " << o.error;
    EXPECT_EQ(o.head.reason, "") << line;
    EXPECT_EQ(o.body, "ok") << line;
  }
  EXPECT_EQ(parse_whole("HTTP/1.1 404 Not  Found \r\nContent-Length: 0\r\n\r\n").head.reason, "Not  Found ");
}

// --- chunked ----------------------------------------------------------------------------------

TEST(http1_parser, rfc9112_7_1_chunked_body_with_extensions_and_trailers_is_unframed) {
  const outcome o = parse_whole(chunked_response);
  EXPECT_EQ(o.st, state::done) << o.error;
  EXPECT_EQ(o.heads, 1);
  EXPECT_EQ(o.body, chunked_payload);
  EXPECT_EQ(o.consumed, chunked_response.size());
  EXPECT_EQ(o.head.field("Transfer-Encoding"), "chunked");
  // Trailer fields are read and dropped: they are not added to the head handed out.
  EXPECT_EQ(o.head.field("X-Checksum"), "");
  EXPECT_EQ(o.head.field("X-Other"), "");
  EXPECT_EQ(o.head.fields.size(), 3u);
}

TEST(http1_parser, rfc9112_7_1_chunked_body_split_at_every_byte_is_reassembled) {
  const outcome whole = parse_whole(chunked_response);
  ASSERT_EQ(whole.st, state::done) << whole.error;
  ASSERT_EQ(whole.body, chunked_payload);
  expect_every_split_same(chunked_response, whole);
}

TEST(http1_parser, rfc9112_7_1_chunked_body_split_at_every_pair_of_positions_is_reassembled) {
  const outcome whole = parse_whole(chunked_response);
  ASSERT_EQ(whole.st, state::done) << whole.error;
  for (std::size_t i = 0; i <= chunked_response.size(); ++i)
    for (std::size_t j = i; j <= chunked_response.size(); j += 3) {
      http1_parser p;
      expect_same(whole, feed_pieces(p, chunked_response, {i, j}),
                  "split at " + std::to_string(i) + "," + std::to_string(j));
      if (HasFailure()) return;
    }
}

TEST(http1_parser, rfc9112_7_1_chunked_without_trailers_ends_at_last_chunk_crlf) {
  const std::string bytes = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  const outcome o = parse_whole(bytes + "NEXT");
  EXPECT_EQ(o.st, state::done) << o.error;
  EXPECT_EQ(o.body, "abc");
  EXPECT_EQ(o.consumed, bytes.size());  // "NEXT" belongs to the next response
}

TEST(http1_parser, rfc9112_6_3_transfer_encoding_chunked_wins_over_content_length) {
  const std::string bytes =
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  const outcome o = parse_whole(bytes);
  EXPECT_EQ(o.st, state::done) << o.error;
  EXPECT_EQ(o.body, "abc");
  EXPECT_EQ(o.consumed, bytes.size());
}

TEST(http1_parser, rfc9112_6_3_transfer_coding_other_than_chunked_last_is_read_until_close) {
  for (const std::string te : {"gzip", "chunked, gzip"}) {
    http1_parser p;
    const outcome o = feed_pieces(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + te + "\r\n\r\n3\r\nabc\r\n0\r\n\r\n", {});
    EXPECT_EQ(o.st, state::body) << te << ": " << o.error;
    EXPECT_TRUE(p.close_delimited()) << te;
    EXPECT_EQ(o.body, "3\r\nabc\r\n0\r\n\r\n") << te;
    p.finish();
    EXPECT_EQ(p.current(), state::done) << te;
  }
  http1_parser p;
  const outcome o = feed_pieces(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", {});
  EXPECT_EQ(o.st, state::done) << o.error;
  EXPECT_FALSE(p.close_delimited());
  EXPECT_EQ(o.body, "abc");
}

TEST(http1_parser, rfc9110_5_6_1_empty_transfer_coding_list_elements_are_ignored) {
  // "chunked, " and "chunked" followed by an empty field both end in chunked.
  for (const std::string fields : {"Transfer-Encoding: chunked, \r\n", "Transfer-Encoding: chunked,,\r\n",
                                   "Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n"}) {
    http1_parser p;
    const outcome o = feed_pieces(p, "HTTP/1.1 200 OK\r\n" + fields + "\r\n3\r\nabc\r\n0\r\n\r\n", {});
    EXPECT_EQ(o.st, state::done) << fields << ": " << o.error;
    EXPECT_FALSE(p.close_delimited()) << fields;
    EXPECT_EQ(o.body, "abc") << fields;
  }
}

// --- line ends, folding, interim responses ---------------------------------------------------

TEST(http1_parser, rfc9112_2_2_lf_only_line_ends_are_accepted_in_head_and_chunked_framing) {
  const outcome cl = parse_whole("HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: 5\n\nhello");
  EXPECT_EQ(cl.st, state::done) << cl.error;
  EXPECT_EQ(cl.head.status, 200);
  EXPECT_EQ(cl.head.reason, "OK");
  EXPECT_EQ(cl.head.field("Content-Type"), "text/html");
  EXPECT_EQ(cl.body, "hello");

  const std::string chunked = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5;x=y\nhello\n3\nabc\n0\nX-T: 1\n\n";
  const outcome ch = parse_whole(chunked);
  EXPECT_EQ(ch.st, state::done) << ch.error;
  EXPECT_EQ(ch.body, "helloabc");
  EXPECT_EQ(ch.consumed, chunked.size());
  expect_every_split_same(chunked, ch);

  const outcome mixed = parse_whole("HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 2\r\n\nok");
  EXPECT_EQ(mixed.st, state::done) << mixed.error;
  EXPECT_EQ(mixed.head.field("X-A"), "1");
  EXPECT_EQ(mixed.body, "ok");
}

TEST(http1_parser, rfc9112_5_2_obs_fold_continuation_lines_are_joined_with_one_space) {
  const std::string bytes =
      "HTTP/1.1 200 OK\r\nX-Folded: first\r\n   second \r\n\tthird\r\nX-After: z\r\nContent-Length: 0\r\n\r\n";
  const outcome o = parse_whole(bytes);
  EXPECT_EQ(o.st, state::done) << o.error;
  EXPECT_EQ(o.head.field("X-Folded"), "first second third");
  EXPECT_EQ(o.head.field("X-After"), "z");
  EXPECT_EQ(o.head.fields.size(), 3u);
  expect_every_split_same(bytes, o);
}

TEST(http1_parser, rfc9112_5_2_obs_fold_before_any_field_fails) {
  const outcome o = parse_whole("HTTP/1.1 200 OK\r\n folded\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(o.st, state::failed);
  EXPECT_FALSE(o.error.empty());
  EXPECT_EQ(o.heads, 0);
}

TEST(http1_parser, rfc9110_15_2_interim_1xx_responses_are_skipped_and_final_response_parsed) {
  const std::string bytes =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  const outcome o = parse_whole(bytes);
  EXPECT_EQ(o.st, state::done) << o.error;
  EXPECT_EQ(o.heads, 1);  // only the final head is handed out
  EXPECT_EQ(o.head.status, 200);
  EXPECT_EQ(o.head.field("Link"), "");  // the interim response's fields are not the final's
  EXPECT_EQ(o.body, "ok");
  EXPECT_EQ(o.consumed, bytes.size());
  expect_every_split_same(bytes, o);
}

TEST(http1_parser, rfc9110_15_2_2_101_switching_protocols_is_a_final_head_without_body) {
  const std::string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  const outcome o = parse_whole(head + "\x81\x05hello");
  EXPECT_EQ(o.st, state::done) << o.error;
  EXPECT_EQ(o.heads, 1);
  EXPECT_EQ(o.head.status, 101);
  EXPECT_EQ(o.body_calls, 0);
  EXPECT_EQ(o.consumed, head.size());  // what follows is the other protocol's
}

// --- responses without a body ----------------------------------------------------------------

TEST(http1_parser, rfc9112_6_3_204_and_304_have_no_body_whatever_their_framing_fields) {
  for (const std::string head :
       {"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n"}) {
    const outcome o = parse_whole(head + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(o.st, state::done) << head << o.error;
    EXPECT_EQ(o.heads, 1) << head;
    EXPECT_EQ(o.body_calls, 0) << head;
    EXPECT_EQ(o.consumed, head.size()) << head;
  }
}

TEST(http1_parser, rfc9112_6_3_response_to_head_request_has_no_body_after_reset_no_body) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/html\r\n\r\n";
  http1_parser p;
  p.reset(true);
  const outcome o = feed_pieces(p, head + "HTTP/1.1 200 OK\r\n", {});
  EXPECT_EQ(o.st, state::done) << o.error;
  EXPECT_EQ(o.head.status, 200);
  EXPECT_EQ(o.head.field("Content-Length"), "1234");
  EXPECT_EQ(o.body_calls, 0);
  EXPECT_EQ(o.consumed, head.size());
  // reset() without no_body: the same head has a body again.
  p.reset();
  const outcome again = feed_pieces(p, head, {});
  EXPECT_EQ(again.st, state::body);
}

// --- the connection's close -------------------------------------------------------------------

TEST(http1_parser, rfc9112_6_3_body_without_length_is_read_until_close_and_finish_completes_it) {
  const std::string bytes = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\npart one, part two";
  http1_parser p;
  const outcome open = feed_pieces(p, bytes, {});
  EXPECT_EQ(open.st, state::body) << open.error;
  EXPECT_TRUE(p.close_delimited());
  EXPECT_EQ(open.body, "part one, part two");
  EXPECT_EQ(open.consumed, bytes.size());
  p.finish();
  EXPECT_EQ(p.current(), state::done) << p.error();
  EXPECT_EQ(p.error(), "");

  const outcome closed = parse_whole(bytes, true);
  EXPECT_EQ(closed.st, state::done);
  expect_every_split_same(bytes, closed, true);

  const outcome empty = parse_whole("HTTP/1.1 200 OK\r\n\r\n", true);
  EXPECT_EQ(empty.st, state::done) << empty.error;
  EXPECT_EQ(empty.body, "");
}

TEST(http1_parser, finish_mid_body_fails_with_a_connection_closed_message) {
  const std::vector<std::string> truncated = {
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",  // no final CRLF
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n",
  };
  for (const auto& bytes : truncated) {
    http1_parser p;
    const outcome before = feed_pieces(p, bytes, {});
    EXPECT_EQ(before.st, state::body) << bytes;
    EXPECT_EQ(before.heads, 1) << bytes;
    p.finish();
    EXPECT_EQ(p.current(), state::failed) << bytes;
    EXPECT_NE(p.error().find("connection closed"), std::string::npos) << bytes << " -> " << p.error();
    EXPECT_NE(p.error(), "connection closed before any response byte") << bytes;
  }
}

TEST(http1_parser, finish_mid_head_fails_with_a_connection_closed_message) {
  for (const std::string bytes : {"H", "HTTP/1.1 200 OK\r\nContent-Len", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
                                  "HTTP/1.1 100 Continue\r\n\r\n"}) {
    http1_parser p;
    const outcome before = feed_pieces(p, bytes, {});
    EXPECT_EQ(before.st, state::head) << bytes;
    EXPECT_EQ(p.head_bytes(), bytes.size()) << bytes;
    p.finish();
    EXPECT_EQ(p.current(), state::failed) << bytes;
    EXPECT_NE(p.error().find("connection closed"), std::string::npos) << bytes << " -> " << p.error();
    EXPECT_NE(p.error(), "connection closed before any response byte") << bytes;
    EXPECT_GT(p.head_bytes(), 0u) << bytes;
  }
}

TEST(http1_parser, finish_before_any_byte_reports_connection_closed_before_any_response_byte) {
  http1_parser fresh;
  EXPECT_EQ(fresh.head_bytes(), 0u);
  fresh.finish();
  EXPECT_EQ(fresh.current(), state::failed);
  EXPECT_EQ(fresh.error(), "connection closed before any response byte");
  EXPECT_EQ(fresh.head_bytes(), 0u);

  // The same on a kept-alive connection after reset: what tells a stale connection apart.
  http1_parser reused;
  ASSERT_EQ(feed_pieces(reused, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", {}).st, state::done);
  reused.reset();
  EXPECT_EQ(reused.head_bytes(), 0u);
  EXPECT_EQ(reused.current(), state::head);
  reused.finish();
  EXPECT_EQ(reused.current(), state::failed);
  EXPECT_EQ(reused.error(), "connection closed before any response byte");
  EXPECT_EQ(reused.head_bytes(), 0u);
}

TEST(http1_parser, finish_after_done_keeps_the_response_complete) {
  http1_parser p;
  ASSERT_EQ(feed_pieces(p, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", {}).st, state::done);
  p.finish();
  EXPECT_EQ(p.current(), state::done);
  EXPECT_EQ(p.error(), "");
}

// --- the head cap -----------------------------------------------------------------------------

TEST(http1_parser, head_exceeding_the_cap_fails_with_response_headers_exceed_n_bytes) {
  // "HTTP/1.1 200 OK\r\n" (17) + "X-Pad: " (7) + pad + "\r\n\r\n" (4)
  const auto head_of = [](std::size_t total) {
    return "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(total - 28, 'p') + "\r\n\r\n";
  };
  ASSERT_EQ(head_of(64).size(), 64u);

  const outcome at_cap = parse_whole(head_of(64) + "body", true, 64);
  EXPECT_EQ(at_cap.st, state::done) << at_cap.error;
  EXPECT_EQ(at_cap.body, "body");
  EXPECT_EQ(parse_bytewise(head_of(64) + "body", true, 64).st, state::done);

  for (const bool bytewise : {false, true}) {
    const outcome over = bytewise ? parse_bytewise(head_of(65), false, 64) : parse_whole(head_of(65), false, 64);
    EXPECT_EQ(over.st, state::failed) << "bytewise=" << bytewise;
    EXPECT_EQ(over.error, "response headers exceed 64 bytes") << "bytewise=" << bytewise;
    EXPECT_EQ(over.heads, 0);
    EXPECT_LE(over.consumed, 64u);
  }

  // One endless line with no line end at all.
  const outcome endless = parse_whole(std::string(1000, 'A'), false, 64);
  EXPECT_EQ(endless.st, state::failed);
  EXPECT_EQ(endless.error, "response headers exceed 64 bytes");
}

TEST(http1_parser, head_cap_counts_interim_responses_too) {
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";  // 25 bytes
  const std::string final_head = "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(20, 'p') + "\r\n\r\n";  // 48 bytes
  const outcome alone = parse_whole(final_head, false, 64);
  EXPECT_EQ(alone.st, state::body) << alone.error;
  const outcome both = parse_whole(interim + final_head, false, 64);
  EXPECT_EQ(both.st, state::failed);
  EXPECT_EQ(both.error, "response headers exceed 64 bytes");
}

TEST(http1_parser, feed_after_failure_consumes_nothing) {
  http1_parser p;
  const outcome o = feed_pieces(p, "NOT HTTP\r\n\r\n", {});
  ASSERT_EQ(o.st, state::failed);
  const std::string more = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  int calls = 0;
  const std::size_t used = p.feed(more.data(), more.size(), [&](const response_head&) { return ++calls, true; },
                                  [&](std::string_view) { return ++calls, true; });
  EXPECT_EQ(used, 0u);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(p.current(), state::failed);
}

// --- malformed responses ----------------------------------------------------------------------

TEST(http1_parser, rfc9112_4_malformed_status_line_fails_with_error) {
  for (const std::string line :
       {"HTTP/2.0 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 abc OK", "ICY 200 OK", "HTTP/1.1  200 OK",
        "http/1.1 200 OK", "HTTP/1. 200 OK", "HTTP/1.1 200\tOK", "garbage", "HTTP/1.1", "HTTP/1.1 000 X",
        "HTTP/1.0 012 OK", "HTTP/1.1 099"}) {
    const outcome o = parse_whole(line + "\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(o.st, state::failed) << "'" << line << "'";
    EXPECT_EQ(o.error.rfind("malformed status line", 0), 0u) << "'" << line << "' -> " << o.error;
    EXPECT_EQ(o.heads, 0) << line;
  }
}

TEST(http1_parser, rfc9112_5_header_line_without_colon_fails_with_error) {
  for (const std::string line : {"Content-Length 5", ": no name", "X-Bad", "X-Bad\tvalue"}) {
    const outcome o = parse_whole("HTTP/1.1 200 OK\r\nX-Good: 1\r\n" + line + "\r\n\r\nhello");
    EXPECT_EQ(o.st, state::failed) << "'" << line << "'";
    EXPECT_FALSE(o.error.empty()) << line;
    EXPECT_EQ(o.heads, 0) << line;
  }
  const outcome o = parse_whole("HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\nhello");
  EXPECT_EQ(o.error.rfind("malformed header line", 0), 0u) << o.error;
}

TEST(http1_parser, rfc9110_8_6_malformed_content_length_fails_with_error) {
  for (const std::string value : {"abc", "-1", "+5", "5 5", "", "0x10", "5;", "1234567890123456789", "5,"}) {
    const outcome o = parse_whole("HTTP/1.1 200 OK\r\nContent-Length: " + value + "\r\n\r\nhello");
    EXPECT_EQ(o.st, state::failed) << "'" << value << "'";
    EXPECT_EQ(o.error.rfind("malformed Content-Length", 0), 0u) << "'" << value << "' -> " << o.error;
    EXPECT_EQ(o.heads, 0) << "the head is not handed out with invalid framing: '" << value << "'";
  }
}

TEST(http1_parser, rfc9112_6_3_conflicting_content_lengths_fail_with_error) {
  for (const std::string fields : {"Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length: 5, 6\r\n"}) {
    const outcome o = parse_whole("HTTP/1.1 200 OK\r\n" + fields + "\r\nhello!");
    EXPECT_EQ(o.st, state::failed) << fields;
    EXPECT_EQ(o.error, "conflicting Content-Length values") << fields;
    EXPECT_EQ(o.heads, 0);
  }
}

TEST(http1_parser, rfc9112_7_1_bad_chunk_framing_fails_with_error) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  struct bad_case {
    std::string body;
    std::string error;  ///< expected message, "" = any
  };
  const std::vector<bad_case> cases = {
      {"zz\r\nhello\r\n0\r\n\r\n", "malformed chunk size"},
      {"\r\nhello\r\n0\r\n\r\n", "malformed chunk size"},
      {"-1\r\n", "malformed chunk size"},
      {";ext\r\n", "malformed chunk size"},
      {"5x\r\nhello\r\n", "malformed chunk size"},
      {"5\rXhello\r\n", "malformed chunk size line end"},
      {"5\r\nhelloXX\r\n0\r\n\r\n", "chunk data not followed by a line end"},
      {"5\r\nhello\rX0\r\n\r\n", "chunk data not followed by a line end"},
      {"10000000000000000\r\n", "chunk size too large"},
      {"0\r\nX-T: 1\rX", "malformed trailer line end"},
      {"5;" + std::string(5000, 'e') + "\r\nhello\r\n0\r\n\r\n", "chunk-size or trailer line longer than 4096 bytes"},
  };
  for (const auto& c : cases) {
    const outcome o = parse_whole(head + c.body);
    EXPECT_EQ(o.st, state::failed) << c.body.substr(0, 40);
    EXPECT_EQ(o.error, c.error) << c.body.substr(0, 40);
    EXPECT_EQ(parse_bytewise(head + c.body).error, c.error) << "bytewise: " << c.body.substr(0, 40);
  }
  // The largest size that fits is not an error (15 hex digits); the body is then just short.
  const outcome big = parse_whole(head + "fffffffffffffff\r\nabc");
  EXPECT_EQ(big.st, state::body) << big.error;
  EXPECT_EQ(big.body, "abc");
}

// --- several responses on one connection ------------------------------------------------------

TEST(http1_parser, rfc9112_9_3_pipelined_responses_in_one_buffer_are_parsed_one_after_the_other) {
  const std::string first = with_length("X-N: 1\r\n", "first");
  const std::string third = "HTTP/1.1 304 Not Modified\r\nX-N: 3\r\n\r\n";
  const std::string fourth = with_length("X-N: 4\r\n", "fourth");
  const std::string all = first + chunked_response + third + fourth;

  http1_parser p;
  std::size_t at = 0;
  const auto next = [&](const std::string& want_n, const std::string& want_body, std::size_t want_size) {
    const outcome o = feed_pieces(p, std::string_view(all).substr(at), {});
    EXPECT_EQ(o.st, state::done) << "response " << want_n << ": " << o.error;
    EXPECT_EQ(o.heads, 1) << want_n;
    EXPECT_EQ(o.head.field("X-N"), want_n == "2" ? "" : want_n);
    EXPECT_EQ(o.body, want_body) << want_n;
    EXPECT_EQ(o.consumed, want_size) << want_n;
    at += o.consumed;
    p.reset();
  };
  next("1", "first", first.size());
  next("2", chunked_payload, chunked_response.size());
  next("3", "", third.size());
  next("4", "fourth", fourth.size());
  EXPECT_EQ(at, all.size());
}

// --- keep-alive -------------------------------------------------------------------------------

TEST(http1_parser, rfc9112_9_3_keep_alive_follows_version_and_connection_field) {
  const auto keep = [](const std::string& status_line, const std::string& fields) {
    const outcome o = parse_whole(status_line + "\r\n" + fields + "Content-Length: 0\r\n\r\n");
    EXPECT_EQ(o.st, state::done) << o.error;
    return o.head.keep_alive();
  };
  EXPECT_TRUE(keep("HTTP/1.1 200 OK", ""));
  EXPECT_FALSE(keep("HTTP/1.1 200 OK", "Connection: close\r\n"));
  EXPECT_FALSE(keep("HTTP/1.1 200 OK", "connection: Upgrade, CLOSE\r\n"));
  EXPECT_TRUE(keep("HTTP/1.1 200 OK", "Connection: keep-alive\r\n"));
  EXPECT_FALSE(keep("HTTP/1.0 200 OK", ""));
  EXPECT_TRUE(keep("HTTP/1.0 200 OK", "Connection: keep-alive\r\n"));
  EXPECT_TRUE(keep("HTTP/1.0 200 OK", "Connection: Keep-Alive\r\n"));
  EXPECT_FALSE(keep("HTTP/1.0 200 OK", "Connection: keep-alive\r\nConnection: close\r\n"));
  EXPECT_FALSE(keep("HTTP/1.0 200 OK", "X-Connection: keep-alive\r\n"));
}

// --- callbacks stopping the parse -------------------------------------------------------------

TEST(http1_parser, on_body_returning_false_stops_consumption_there) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string body = "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n";
  const std::string bytes = head + body;
  http1_parser p;
  int calls = 0;
  std::string got;
  const std::size_t used = p.feed(
      bytes.data(), bytes.size(), [](const response_head&) { return true; },
      [&](std::string_view piece) {
        ++calls;
        got.append(piece);
        return false;
      });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, "hello");
  EXPECT_EQ(used, head.size() + std::string("5\r\nhello").size());
  EXPECT_EQ(p.current(), state::body);

  // The parser stayed where it stopped: the rest parses as the rest.
  const outcome rest = feed_pieces(p, std::string_view(bytes).substr(used), {});
  EXPECT_EQ(rest.st, state::done) << rest.error;
  EXPECT_EQ(rest.body, "world");
  EXPECT_EQ(rest.consumed, bytes.size() - used);

  // Content-Length: a stop after the first piece of a body fed in two pieces.
  const std::string cl = with_length("", "0123456789");
  http1_parser q;
  int cl_calls = 0;
  const std::size_t first = q.feed(cl.data(), cl.size() - 4, [](const response_head&) { return true; },
                                   [&](std::string_view) { return ++cl_calls, false; });
  EXPECT_EQ(first, cl.size() - 4);
  EXPECT_EQ(cl_calls, 1);
  EXPECT_EQ(q.current(), state::body);
}

TEST(http1_parser, on_head_returning_false_stops_before_the_body) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  const std::string bytes = head + "hello";
  http1_parser p;
  int heads = 0, bodies = 0;
  const std::size_t used = p.feed(
      bytes.data(), bytes.size(), [&](const response_head&) { return ++heads, false; },
      [&](std::string_view) { return ++bodies, true; });
  EXPECT_EQ(heads, 1);
  EXPECT_EQ(bodies, 0);
  EXPECT_EQ(used, head.size());
  EXPECT_EQ(p.current(), state::body);
  EXPECT_EQ(p.head().status, 200);
}

// --- differential: the parser against session::get (cpp-httplib) on the same bytes ------------

/// Parses `reply` as a client on a connection the server closes after it would.
outcome parse_reply(const std::string& reply) { return parse_whole(reply, true); }

TEST(http1_parser, differential_status_body_and_fields_match_session_get_on_raw_server_bytes) {
  const std::vector<std::string> replies = {
      with_length("Content-Type: text/html\r\nX-Spaced:   v  \r\n", html),
      // cpp-httplib 0.11 fails a chunked body with trailer fields (a read error): extensions only.
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n1A ; quoted=\"a;b\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n" + html,
      "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + html,
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\nnot found",
      "HTTP/1.1 301 Moved Permanently\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 204 No Content\r\nX-Empty: yes\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1\r\n<\r\n3\r\np>x\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok",
  };
  options o;
  o.connect_timeout = 2s;
  o.read_timeout = 2s;
  o.total_timeout = 5s;
  o.keep_non_html_body = true;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const std::string& reply = replies[i];
    const std::string name = "reply " + std::to_string(i) + " (" + reply.substr(0, reply.find('\r')) + ")";
    testing::raw_server srv(reply);
    ASSERT_GT(srv.port(), 0);
    session ses(o);
    parse::url u;
    u.scheme = "http";
    u.host = "127.0.0.1";
    u.has_host = true;
    u.port = srv.port();
    u.path = "/";
    const response r = ses.get(u);
    const outcome p = parse_reply(reply);
    ASSERT_EQ(p.st, state::done) << name << ": " << p.error;
    EXPECT_EQ(r.error, fetch_error::none) << name << ": " << r.error_message;
    EXPECT_EQ(r.status, p.head.status) << name;
    EXPECT_EQ(r.body, p.body) << name;
    for (const auto& [k, v] : p.head.fields)
      EXPECT_EQ(r.header(k), std::string(p.head.field(k))) << name << ": field " << k;
  }
}

}  // namespace
}  // namespace crawld::fetch
