#include "storage/warc.hpp"
#include "tests/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

namespace crawld::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using test::temp_dir;
using ::testing::StartsWith;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = char(rng() & 0xff);
  return s;
}

/// All records of `path`, or the reader's error.
result<std::vector<warc_record>> read_all(const std::string& path, bool verify = true) {
  auto r = warc_reader::open(path);
  if (!r) return r.err();
  std::vector<warc_record> out;
  for (;;) {
    auto rec = (*r)->next(verify);
    if (!rec) return rec.err();
    if (!*rec) return out;
    out.push_back(std::move(**rec));
  }
}

/// Records read before the first error, and that error ("" when none).
std::pair<std::vector<warc_record>, std::string> read_until_error(const std::string& path) {
  std::vector<warc_record> out;
  auto r = warc_reader::open(path);
  if (!r) return {out, r.message()};
  for (;;) {
    auto rec = (*r)->next(true);
    if (!rec) return {out, rec.message()};
    if (!*rec) return {out, ""};
    out.push_back(std::move(**rec));
  }
}

/// Decompresses gzip members one by one: (file offset, decompressed bytes) of each.
std::vector<std::pair<std::size_t, std::string>> gzip_members(const std::string& file) {
  std::vector<std::pair<std::size_t, std::string>> members;
  std::size_t pos = 0;
  while (pos < file.size()) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(file.data() + pos));
    z.avail_in = uInt(file.size() - pos);
    std::string out;
    int ret = Z_OK;
    char buf[1 << 15];
    while (ret == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      ret = inflate(&z, Z_NO_FLUSH);
      out.append(buf, sizeof buf - z.avail_out);
    }
    EXPECT_EQ(ret, Z_STREAM_END) << "member at " << pos;
    std::size_t used = file.size() - pos - z.avail_in;
    inflateEnd(&z);
    if (ret != Z_STREAM_END) break;
    members.emplace_back(pos, std::move(out));
    pos += used;
  }
  return members;
}

const std::string request_bytes =
    "GET /a/b.html?x=1 HTTP/1.1\r\nHost: a.example\r\nUser-Agent: crawld/0.1.0\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n\r\n";
const std::string body_html = "<html><body>h\xC3\xA9llo \x00\x01 world</body></html>";
const std::string response_bytes =
    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
    std::to_string(body_html.size()) + "\r\n\r\n" + body_html;
const std::int64_t t0 = 1700000000123;  // 2023-11-14T22:13:20.123Z

TEST(warc, round_trip_request_and_response) {
  temp_dir dir;
  warc_writer_options o;
  o.software = "crawld/9.9.9";
  o.operator_name = "Jane Doe <jane@example.org>";
  o.description = "round trip";
  auto w = warc_writer::open(dir / "crawl", o);
  ASSERT_TRUE(w) << w.message();
  EXPECT_EQ((*w)->current_path(), dir / "crawl-00000.warc.gz");
  auto req = (*w)->write_request("http://a.example/a/b.html?x=1", t0, request_bytes);
  ASSERT_TRUE(req) << req.message();
  auto resp = (*w)->write_response("http://a.example/a/b.html?x=1", t0 + 5, response_bytes, *req);
  ASSERT_TRUE(resp) << resp.message();
  ASSERT_TRUE((*w)->close());

  auto recs = read_all(dir / "crawl-00000.warc.gz");
  ASSERT_TRUE(recs) << recs.message();
  ASSERT_EQ(recs->size(), 3u);
  const warc_record& info = (*recs)[0];
  EXPECT_EQ(info.version, "WARC/1.1");
  EXPECT_EQ(info.type(), "warcinfo");
  EXPECT_EQ(info.header("Content-Type"), "application/warc-fields");
  EXPECT_EQ(info.header("WARC-Filename"), "crawl-00000.warc.gz");
  EXPECT_THAT(info.block, HasSubstr("software: crawld/9.9.9\r\n"));
  EXPECT_THAT(info.block, HasSubstr("format: WARC File Format 1.1\r\n"));
  EXPECT_THAT(info.block, HasSubstr("operator: Jane Doe <jane@example.org>\r\n"));
  EXPECT_THAT(info.block, HasSubstr("description: round trip\r\n"));

  const warc_record& rq = (*recs)[1];
  EXPECT_EQ(rq.type(), "request");
  EXPECT_EQ(rq.id(), *req);
  EXPECT_EQ(rq.header("WARC-Target-URI"), "http://a.example/a/b.html?x=1");
  EXPECT_EQ(rq.header("WARC-Date"), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(rq.header("Content-Type"), "application/http;msgtype=request");
  EXPECT_EQ(rq.header("Content-Length"), std::to_string(request_bytes.size()));
  EXPECT_EQ(rq.block, request_bytes);

  const warc_record& rs = (*recs)[2];
  EXPECT_EQ(rs.type(), "response");
  EXPECT_EQ(rs.id(), *resp);
  EXPECT_EQ(rs.header("WARC-Date"), "2023-11-14T22:13:20.128Z");
  EXPECT_EQ(rs.header("Content-Type"), "application/http;msgtype=response");
  EXPECT_EQ(rs.block, response_bytes);
  EXPECT_EQ(rs.header("Content-Length"), std::to_string(response_bytes.size()));
}

TEST(warc, block_and_payload_digests_verify) {
  temp_dir dir;
  auto w = warc_writer::open(dir / "d");
  ASSERT_TRUE(w);
  // Content-encoded and chunked: the payload is the gzip bytes with the chunk framing removed.
  std::string gz = random_bytes(300, 7);  // stands for gzip bytes: never decoded
  std::string chunked = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"
                        "\r\n" "64\r\n" + gz.substr(0, 100) + "\r\n" "c8;ext=1\r\n" +
                        gz.substr(100) + "\r\n" "0\r\nX-Trailer: y\r\n\r\n";
  EXPECT_EQ(http_payload(chunked), gz);
  EXPECT_EQ(http_payload(response_bytes), body_html);
  EXPECT_EQ(http_payload("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"), "");  // no blank line
  // A chunked body cut short: the payload is what was decoded up to the cut.
  EXPECT_EQ(http_payload(chunked.substr(0, chunked.find(gz.substr(100)) + 10)), gz.substr(0, 110));

  ASSERT_TRUE((*w)->write_response("http://a.example/", t0, response_bytes));
  ASSERT_TRUE((*w)->write_response("http://a.example/z", t0, chunked));
  ASSERT_TRUE((*w)->close());
  auto recs = read_all((*w)->current_path(), true);
  ASSERT_TRUE(recs) << recs.message();
  ASSERT_EQ(recs->size(), 3u);
  EXPECT_EQ((*recs)[1].header("WARC-Block-Digest"), warc_sha1_digest(response_bytes));
  EXPECT_EQ((*recs)[1].header("WARC-Payload-Digest"), warc_sha1_digest(body_html));
  EXPECT_EQ((*recs)[2].header("WARC-Block-Digest"), warc_sha1_digest(chunked));
  EXPECT_EQ((*recs)[2].header("WARC-Payload-Digest"), warc_sha1_digest(gz));
  EXPECT_EQ((*recs)[1].header("WARC-Payload-Digest").size(), 5u + 32u);

  // A record whose block does not match its digest is caught when verifying, not otherwise.
  std::string block = "HTTP/1.1 200 OK\r\n\r\nhello";
  std::string plain = "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:x>\r\n"
                      "Content-Type: application/http;msgtype=response\r\nContent-Length: " +
                      std::to_string(block.size()) + "\r\nWARC-Block-Digest: " +
                      warc_sha1_digest("something else") + "\r\n\r\n" + block + "\r\n\r\n";
  spit(dir / "bad.warc", plain);
  EXPECT_TRUE(read_all(dir / "bad.warc", false));
  auto bad = read_all(dir / "bad.warc", true);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.message(), HasSubstr("bad.warc"));
  EXPECT_THAT(bad.message(), HasSubstr("record at byte 0"));
  EXPECT_THAT(bad.message(), HasSubstr("WARC-Block-Digest mismatch"));
  // Hex and sha256 digests written by other tools verify too.
  std::string ok = "WARC/1.0\r\nWARC-Type: resource\r\nContent-Length: 5\r\n"
                   "WARC-Block-Digest: sha1:aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d\r\n"
                   "WARC-Payload-Digest: sha256:FTZE3OS7WCRQ4JXIHMVMLOPCTYNRMHS4D6TUEXTTAQZWFE4LTASA====\r\n"
                   "\r\nhello\r\n\r\n";
  spit(dir / "other.warc", ok);
  auto other = read_all(dir / "other.warc", true);
  EXPECT_TRUE(other) << other.message();
}

TEST(warc, record_ids_unique_and_concurrent_to_links) {
  temp_dir dir;
  auto w = warc_writer::open(dir / "ids");
  ASSERT_TRUE(w);
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    std::string uri = "http://a.example/" + std::to_string(i);
    auto rq = (*w)->write_request(uri, t0, request_bytes);
    ASSERT_TRUE(rq);
    auto rs = (*w)->write_response(uri, t0, response_bytes, *rq);
    ASSERT_TRUE(rs);
    EXPECT_TRUE(ids.insert(*rq).second);
    EXPECT_TRUE(ids.insert(*rs).second);
  }
  ASSERT_TRUE((*w)->close());
  auto recs = read_all((*w)->current_path());
  ASSERT_TRUE(recs) << recs.message();
  ASSERT_EQ(recs->size(), 201u);
  std::regex v4("<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}>");
  for (std::size_t i = 1; i < recs->size(); i += 2) {
    const auto& rq = (*recs)[i];
    const auto& rs = (*recs)[i + 1];
    EXPECT_TRUE(std::regex_match(rq.id(), v4)) << rq.id();
    EXPECT_TRUE(std::regex_match(rs.id(), v4)) << rs.id();
    EXPECT_EQ(rs.header("WARC-Concurrent-To"), rq.id());
    EXPECT_EQ(rs.header("WARC-Target-URI"), rq.header("WARC-Target-URI"));
  }
}

TEST(warc, files_rotate_by_size_each_with_warcinfo) {
  temp_dir dir;
  warc_writer_options o;
  o.max_file_bytes = 8192;
  auto w = warc_writer::open(dir / "rot", o);
  ASSERT_TRUE(w);
  for (int i = 0; i < 20; ++i) {
    // Incompressible 1 KiB bodies: each record is a bit over 1 KiB compressed.
    std::string resp = "HTTP/1.1 200 OK\r\n\r\n" + random_bytes(1024, unsigned(i));
    ASSERT_TRUE((*w)->write_response("http://a.example/" + std::to_string(i), t0, resp));
  }
  ASSERT_TRUE((*w)->close());
  const auto& paths = (*w)->paths();
  ASSERT_GE(paths.size(), 3u);
  int responses = 0;
  for (std::size_t f = 0; f < paths.size(); ++f) {
    char name[64];
    std::snprintf(name, sizeof name, "rot-%05zu.warc.gz", f);
    EXPECT_EQ(paths[f], dir / name);
    EXPECT_LE(fs::file_size(paths[f]), o.max_file_bytes) << paths[f];
    auto recs = read_all(paths[f]);
    ASSERT_TRUE(recs) << recs.message();
    ASSERT_GE(recs->size(), 2u) << paths[f];
    EXPECT_EQ((*recs)[0].type(), "warcinfo");
    EXPECT_EQ((*recs)[0].header("WARC-Filename"), name);
    for (std::size_t i = 1; i < recs->size(); ++i) {
      EXPECT_EQ((*recs)[i].type(), "response");
      EXPECT_EQ((*recs)[i].header("WARC-Target-URI"), "http://a.example/" + std::to_string(responses));
      ++responses;
    }
  }
  EXPECT_EQ(responses, 20);
  EXPECT_FALSE(fs::exists(dir / "rot-00099.warc.gz"));
}

TEST(warc, each_record_its_own_gzip_member) {
  temp_dir dir;
  auto w = warc_writer::open(dir / "m");
  ASSERT_TRUE(w);
  auto rq = (*w)->write_request("http://a.example/", t0, request_bytes);
  ASSERT_TRUE(rq);
  ASSERT_TRUE((*w)->write_response("http://a.example/", t0, response_bytes, *rq));
  ASSERT_TRUE((*w)->write_response("http://a.example/2", t0, "HTTP/1.1 204 No Content\r\n\r\n"));
  ASSERT_TRUE((*w)->close());
  std::string file = slurp((*w)->current_path());
  auto members = gzip_members(file);
  ASSERT_EQ(members.size(), 4u);
  auto recs = read_all((*w)->current_path());
  ASSERT_TRUE(recs) << recs.message();
  ASSERT_EQ(recs->size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string& m = members[i].second;
    EXPECT_THAT(m, StartsWith("WARC/1.1\r\n"));
    EXPECT_EQ(m.substr(m.size() - 4), "\r\n\r\n");
    EXPECT_EQ(m.find("WARC/1.1\r\n", 1), std::string::npos) << "member " << i << " holds >1 record";
    EXPECT_EQ((*recs)[i].offset, members[i].first);
    EXPECT_EQ(static_cast<unsigned char>(file[members[i].first]), 0x1f);
  }
  // The same records read from the decompressed (plain .warc) form.
  std::string plain;
  for (const auto& m : members) plain += m.second;
  spit(dir / "m.warc", plain);
  auto plain_recs = read_all(dir / "m.warc");
  ASSERT_TRUE(plain_recs) << plain_recs.message();
  ASSERT_EQ(plain_recs->size(), 4u);
  EXPECT_EQ((*plain_recs)[2].block, response_bytes);
  EXPECT_EQ((*plain_recs)[1].offset, members[0].second.size());
}

TEST(warc, revisit_refers_to_original) {
  temp_dir dir;
  auto w = warc_writer::open(dir / "rv");
  ASSERT_TRUE(w);
  auto orig = (*w)->write_response("http://a.example/x", t0, response_bytes);
  ASSERT_TRUE(orig);
  warc_revisit r;
  r.target_uri = "http://b.example/copy-of-x";
  r.date_ms = t0 + 60000;
  r.http_response_head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n";
  r.payload_digest = warc_sha1_digest(body_html);
  r.refers_to_uri = "http://a.example/x";
  r.refers_to_date_ms = t0;
  r.refers_to_id = *orig;
  auto rv = (*w)->write_revisit(r);
  ASSERT_TRUE(rv) << rv.message();
  warc_revisit incomplete = r;
  incomplete.payload_digest.clear();
  EXPECT_FALSE((*w)->write_revisit(incomplete));
  ASSERT_TRUE((*w)->close());

  auto recs = read_all((*w)->current_path(), true);
  ASSERT_TRUE(recs) << recs.message();
  ASSERT_EQ(recs->size(), 3u);
  const auto& o = (*recs)[1];
  const auto& v = (*recs)[2];
  EXPECT_EQ(v.type(), "revisit");
  EXPECT_EQ(v.id(), *rv);
  EXPECT_EQ(v.header("WARC-Profile"),
            "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest");
  EXPECT_EQ(v.header("WARC-Target-URI"), "http://b.example/copy-of-x");
  EXPECT_EQ(v.header("WARC-Refers-To-Target-URI"), o.header("WARC-Target-URI"));
  EXPECT_EQ(v.header("WARC-Refers-To-Date"), o.header("WARC-Date"));
  EXPECT_EQ(v.header("WARC-Refers-To"), o.id());
  EXPECT_EQ(v.header("WARC-Payload-Digest"), o.header("WARC-Payload-Digest"));
  EXPECT_EQ(v.block, r.http_response_head);  // headers only, no payload
  EXPECT_EQ(v.header("WARC-Block-Digest"), warc_sha1_digest(r.http_response_head));
}

TEST(warc, truncated_file_is_clear_error_with_offset) {
  temp_dir dir;
  auto w = warc_writer::open(dir / "t");
  ASSERT_TRUE(w);
  ASSERT_TRUE((*w)->write_request("http://a.example/", t0, request_bytes));
  ASSERT_TRUE((*w)->write_response("http://a.example/", t0, response_bytes));
  ASSERT_TRUE((*w)->close());
  std::string file = slurp((*w)->current_path());
  auto members = gzip_members(file);
  ASSERT_EQ(members.size(), 3u);
  std::size_t last = members[2].first;

  // Cut inside the last gzip member: the first two records read, then an error at its offset.
  for (std::size_t cut : {last + 5, last + (file.size() - last) / 2, file.size() - 1}) {
    spit(dir / "cut.warc.gz", file.substr(0, cut));
    auto [recs, err] = read_until_error(dir / "cut.warc.gz");
    // Cut in the gzip trailer, the record itself is whole (and verified): it is returned, and the
    // truncated member is reported by the next call.
    EXPECT_EQ(recs.size(), cut == file.size() - 1 ? 3u : 2u) << cut;
    EXPECT_THAT(err, HasSubstr(dir / "cut.warc.gz")) << cut;
    EXPECT_THAT(err, HasSubstr("truncated")) << err;
    EXPECT_THAT(err, HasSubstr("byte " + std::to_string(last))) << err;
  }
  // Cut exactly at a member boundary: a clean, shorter file.
  spit(dir / "whole.warc.gz", file.substr(0, last));
  auto whole = read_all(dir / "whole.warc.gz");
  ASSERT_TRUE(whole) << whole.message();
  EXPECT_EQ(whole->size(), 2u);

  // Plain WARC cut inside a block and inside a header.
  std::string plain = members[0].second + members[1].second + members[2].second;
  std::size_t third = members[0].second.size() + members[1].second.size();
  spit(dir / "cut.warc", plain.substr(0, plain.size() - 20));
  auto [precs, perr] = read_until_error(dir / "cut.warc");
  EXPECT_EQ(precs.size(), 2u);
  EXPECT_THAT(perr, HasSubstr("cut.warc': record at byte " + std::to_string(third)));
  EXPECT_THAT(perr, HasSubstr("truncated block: Content-Length"));
  spit(dir / "cut2.warc", plain.substr(0, third + 30));
  auto [hrecs, herr] = read_until_error(dir / "cut2.warc");
  EXPECT_EQ(hrecs.size(), 2u);
  EXPECT_THAT(herr, HasSubstr("record at byte " + std::to_string(third) + ": truncated WARC header"));
  // Garbage where a record should start.
  spit(dir / "junk.warc", members[0].second + "HTTP/1.1 200 OK\r\n\r\n");
  auto [jrecs, jerr] = read_until_error(dir / "junk.warc");
  EXPECT_EQ(jrecs.size(), 1u);
  EXPECT_THAT(jerr, HasSubstr("record at byte " + std::to_string(members[0].second.size()) +
                              ": not a WARC record"));
}

TEST(warc, corrupt_gzip_is_clear_error) {
  temp_dir dir;
  auto w = warc_writer::open(dir / "c");
  ASSERT_TRUE(w);
  std::string big = "HTTP/1.1 200 OK\r\n\r\n" + std::string(5000, 'a') + random_bytes(2000, 3);
  ASSERT_TRUE((*w)->write_response("http://a.example/1", t0, big));
  ASSERT_TRUE((*w)->write_response("http://a.example/2", t0, big));
  ASSERT_TRUE((*w)->close());
  std::string file = slurp((*w)->current_path());
  auto members = gzip_members(file);
  ASSERT_EQ(members.size(), 3u);
  std::size_t second = members[1].first;

  for (std::size_t at : {second + 40, second + 400, members[2].first - 6 /* CRC */}) {
    std::string bad = file;
    for (std::size_t i = at; i < at + 4; ++i) bad[i] = char(bad[i] ^ 0x5a);
    spit(dir / "bad.warc.gz", bad);
    auto [recs, err] = read_until_error(dir / "bad.warc.gz");
    EXPECT_LE(recs.size(), 2u);
    EXPECT_GE(recs.size(), 1u);
    EXPECT_THAT(err, HasSubstr(dir / "bad.warc.gz"));
    EXPECT_THAT(err, HasSubstr("byte " + std::to_string(second))) << err;
  }
  // Bytes after the last member that are not gzip.
  spit(dir / "tail.warc.gz", file + "not gzip at all");
  auto [trecs, terr] = read_until_error(dir / "tail.warc.gz");
  EXPECT_EQ(trecs.size(), 3u);
  EXPECT_THAT(terr, HasSubstr("corrupt gzip data in the member starting at byte " +
                              std::to_string(file.size())));
}

TEST(warc, write_to_full_disk_is_error_value) {
  temp_dir dir;
  const std::string prefix = dir / "full";
  const std::string path = prefix + "-00000.warc.gz";
  const std::string msg_path = dir / "message.txt";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: a file size limit stands in for a full disk (EFBIG instead of ENOSPC).
    ::signal(SIGXFSZ, SIG_IGN);
    auto w = warc_writer::open(prefix);
    if (!w) ::_exit(200);
    struct rlimit lim {32768, 32768};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(201);
    int written = 0;
    for (; written < 100; ++written) {
      std::string resp = "HTTP/1.1 200 OK\r\n\r\n" + random_bytes(3000, unsigned(written));
      auto id = (*w)->write_response("http://a.example/" + std::to_string(written), t0, resp);
      if (!id) {
        std::ofstream(msg_path) << id.message();
        break;
      }
    }
    if (written == 100) ::_exit(202);
    ::_exit(written);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  int written = WEXITSTATUS(status);
  ASSERT_LT(written, 200) << "child failed: " << written;
  EXPECT_GE(written, 5);
  std::string msg = slurp(msg_path);
  EXPECT_THAT(msg, HasSubstr("cannot write WARC record to '" + path + "'"));
  EXPECT_THAT(msg, HasSubstr("File too large"));
  EXPECT_THAT(msg, HasSubstr("file kept up to its last complete record"));
  auto recs = read_all(path, true);  // readable up to the last complete record
  ASSERT_TRUE(recs) << recs.message();
  EXPECT_EQ(recs->size(), std::size_t(written) + 1);
  EXPECT_LE(fs::file_size(path), 32768u);

  // A directory that cannot hold the file at all.
  auto nowhere = warc_writer::open("/nonexistent-dir/x");
  ASSERT_FALSE(nowhere);
  EXPECT_THAT(nowhere.message(), HasSubstr("cannot create WARC file '/nonexistent-dir/x-00000.warc.gz'"));
  // An existing file is never overwritten.
  auto again = warc_writer::open(prefix);
  ASSERT_FALSE(again);
  EXPECT_THAT(again.message(), HasSubstr("File exists"));
}

TEST(warc, base32_known_vectors) {
  // RFC 4648 section 10.
  EXPECT_EQ(base32_encode(""), "");
  EXPECT_EQ(base32_encode("f"), "MY======");
  EXPECT_EQ(base32_encode("fo"), "MZXQ====");
  EXPECT_EQ(base32_encode("foo"), "MZXW6===");
  EXPECT_EQ(base32_encode("foob"), "MZXW6YQ=");
  EXPECT_EQ(base32_encode("fooba"), "MZXW6YTB");
  EXPECT_EQ(base32_encode("foobar"), "MZXW6YTBOI======");
  // SHA-1 digests as WARC writes them (20 bytes: 32 characters, no padding).
  EXPECT_EQ(warc_sha1_digest(""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
  EXPECT_EQ(warc_sha1_digest("abc"), "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
  EXPECT_EQ(warc_date(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(warc_date(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace crawld::storage
