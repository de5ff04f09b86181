#include "storage/store.hpp"
#include "tests/temp_dir.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

namespace crawld::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using test::temp_dir;
using ::testing::UnorderedElementsAre;

page_record make_page(std::string url, int status = 200, std::string outcome = "ok") {
  page_record p;
  p.final_url = url;
  p.url = std::move(url);
  p.status = status;
  p.outcome = std::move(outcome);
  p.content_type = "text/html";
  p.headers = {{"Content-Type", "text/html"}};
  p.fetched_at_ms = 1'700'000'000'000;
  p.body = "<html>" + p.url + "</html>";
  p.wire_bytes = p.body.size();
  return p;
}

open_options existing_only() {
  open_options o;
  o.create = false;
  return o;
}

open_options reader_opts(bool create = false) {
  open_options o;
  o.create = create;
  o.read_only = true;
  return o;
}

std::unique_ptr<store> open_ok(const std::string& dir, open_options opts = {}) {
  auto s = store::open(dir, opts);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.message());
  return s.ok() ? std::move(s).value() : nullptr;
}

std::string open_error(const std::string& dir, open_options opts = {}) {
  auto s = store::open(dir, opts);
  EXPECT_FALSE(s.ok()) << "opened " << dir;
  return s.ok() ? "" : s.message();
}

std::vector<std::string> column_families(const std::string& dir) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  return names;
}

/// Creates a plain RocksDB database (not a crawld store), optionally with extra CFs.
void make_foreign_db(const std::string& dir, const std::vector<std::string>& extra_cfs = {}) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(o, dir, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "k", "v").ok());
  for (const auto& name : extra_cfs) {
    rocksdb::ColumnFamilyHandle* h = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), name, &h).ok());
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
}

TEST(store, creates_store_with_all_column_families) {
  temp_dir tmp;
  const std::string dir = tmp / "crawl";
  {
    auto s = open_ok(dir);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->dir(), dir);
    EXPECT_EQ(s->get_meta("format_version"), std::to_string(storage::format_version));
    const auto created = s->get_meta("created_at");
    ASSERT_TRUE(created);
    EXPECT_GT(std::stoll(*created), 1'600'000'000'000LL);
  }
  EXPECT_THAT(column_families(dir),
              UnorderedElementsAre("default", "pages", "frontier", "seen", "hosts", "meta"));
}

TEST(store, creates_store_in_empty_existing_directory) {
  temp_dir tmp;
  auto s = open_ok(tmp.path());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->get_meta("format_version"), std::to_string(storage::format_version));
}

TEST(store, reopen_keeps_pages) {
  temp_dir tmp;
  const std::string dir = tmp / "crawl";
  std::string created_at;
  {
    auto s = open_ok(dir);
    ASSERT_TRUE(s);
    created_at = s->get_meta("created_at").value_or("");
    ASSERT_TRUE(
        s->put_pages({make_page("http://a.test/"), make_page("http://a.test/x", 404, "not_found")})
            .ok());
    ASSERT_TRUE(
        s->put_pages({make_page("http://a.test/", 500, "server_error")}).ok());  // overwrites
    ASSERT_TRUE(s->put_meta("seed", "http://a.test/").ok());
    ASSERT_TRUE(s->sync().ok());
  }
  auto s = open_ok(dir, existing_only());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->get_meta("created_at"),
            std::optional<std::string>(created_at));  // not re-initialized
  EXPECT_EQ(s->get_meta("seed"), std::optional<std::string>("http://a.test/"));
  EXPECT_EQ(s->get_meta("absent"), std::nullopt);

  auto root = s->get_page("http://a.test/");
  ASSERT_TRUE(root.ok()) << root.message();
  ASSERT_TRUE(root->has_value());
  EXPECT_EQ((*root)->status, 500);
  EXPECT_EQ((*root)->outcome, "server_error");
  EXPECT_EQ((*root)->body, "<html>http://a.test/</html>");

  auto missing = s->get_page("http://a.test/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  std::vector<std::string> urls;
  ASSERT_TRUE(s->for_each_page([&](const page_record& p) {
                 urls.push_back(p.url);
                 return true;
               }).ok());
  EXPECT_EQ(urls, (std::vector<std::string>{"http://a.test/", "http://a.test/x"}));
}

TEST(store, put_pages_refuses_page_without_url) {
  temp_dir tmp;
  auto s = open_ok(tmp.path());
  ASSERT_TRUE(s);
  auto r = s->put_pages({make_page("http://a.test/"), page_record{}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("without url"));
  auto first = s->get_page("http://a.test/");
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value()) << "a refused batch must write nothing";
}

TEST(store, refuses_directory_that_is_not_a_store) {
  temp_dir tmp;
  std::ofstream(tmp / "notes.txt") << "my files";
  EXPECT_EQ(open_error(tmp.path()), "'" + tmp.path() + "' is not a crawld store (no CURRENT file)");
  EXPECT_EQ(fs::directory_iterator(tmp.path())->path().filename(), "notes.txt");
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
}

TEST(store, refuses_regular_file_as_store) {
  temp_dir tmp;
  std::ofstream(tmp / "file") << "x";
  EXPECT_THAT(open_error(tmp / "file"), HasSubstr("is not a crawld store (not a directory)"));
}

TEST(store, refuses_foreign_rocksdb_database_without_touching_it) {
  temp_dir tmp;
  const std::string dir = tmp / "db";
  make_foreign_db(dir);
  EXPECT_EQ(open_error(dir), "'" + dir + "' is not a crawld store (no format_version in meta)");
  EXPECT_THAT(open_error(dir, reader_opts(true)), HasSubstr("is not a crawld store"));
  EXPECT_THAT(column_families(dir), UnorderedElementsAre("default"));
}

TEST(store, refuses_rocksdb_database_with_meta_but_no_format_version) {
  temp_dir tmp;
  const std::string dir = tmp / "db";
  make_foreign_db(dir, {"meta"});
  EXPECT_EQ(open_error(dir), "'" + dir + "' is not a crawld store (no format_version in meta)");
}

TEST(store, refuses_store_locked_by_another_writer) {
  temp_dir tmp;
  auto first = open_ok(tmp.path());
  ASSERT_TRUE(first);
  EXPECT_EQ(open_error(tmp.path()),
            "store '" + tmp.path() + "' is locked by another crawld process");
  first.reset();
  EXPECT_TRUE(open_ok(tmp.path())) << "the lock is released when the store closes";
}

TEST(store, refuses_store_locked_by_another_process) {
  temp_dir tmp;
  ASSERT_TRUE(open_ok(tmp.path()));  // create, then close
  const std::string lock_path = tmp / "LOCK";

  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: take the same POSIX record lock RocksDB takes, report, hold it until released.
    ::close(ready[0]);
    ::close(release[1]);
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT, 0644);
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    char c = (fd >= 0 && ::fcntl(fd, F_SETLK, &fl) == 0) ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) ::_exit(1);
    while (::read(release[0], &c, 1) > 0) {
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  EXPECT_EQ(c, 'y');
  EXPECT_EQ(open_error(tmp.path()),
            "store '" + tmp.path() + "' is locked by another crawld process");
  EXPECT_TRUE(open_ok(tmp.path(), reader_opts())) << "readers take no lock";
  ::close(release[1]);
  ::close(ready[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(store, read_only_open_beside_writer_sees_synced_pages) {
  temp_dir tmp;
  auto writer = open_ok(tmp.path());
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->put_pages({make_page("http://a.test/"), make_page("http://a.test/b")}).ok());
  ASSERT_TRUE(writer->sync().ok());

  auto reader = open_ok(tmp.path(), reader_opts());
  ASSERT_TRUE(reader);
  auto page = reader->get_page("http://a.test/b");
  ASSERT_TRUE(page.ok()) << page.message();
  ASSERT_TRUE(page->has_value());
  EXPECT_EQ((*page)->url, "http://a.test/b");
  auto st = reader->stats();
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(st->pages, 2u);
  EXPECT_EQ(reader->get_meta("format_version"), std::to_string(storage::format_version));

  auto refused = reader->put_pages({make_page("http://a.test/c")});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("read-only"));
  EXPECT_FALSE(reader->put_meta("k", "v").ok());
  EXPECT_TRUE(reader->sync().ok());
  reader.reset();

  // The writer is unaffected by the reader coming and going.
  ASSERT_TRUE(writer->put_pages({make_page("http://a.test/c")}).ok());
  auto after = writer->stats();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->pages, 3u);
}

TEST(store, read_only_open_never_creates) {
  temp_dir tmp;
  EXPECT_EQ(open_error(tmp / "absent", reader_opts(true)),
            "no crawl store at '" + (tmp / "absent") + "'");
  EXPECT_FALSE(fs::exists(tmp / "absent"));
  EXPECT_EQ(open_error(tmp.path(), reader_opts(true)), "no crawl store at '" + tmp.path() + "'");
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(store, refuses_newer_format_version) {
  temp_dir tmp;
  {
    auto s = open_ok(tmp.path());
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_meta("format_version", "3").ok());
  }
  const std::string expected = "cannot open store '" + tmp.path() +
                               "': store format 3 is newer than this crawld supports (2)";
  EXPECT_EQ(open_error(tmp.path()), expected);
  EXPECT_EQ(open_error(tmp.path(), reader_opts()), expected);
}

// A format-1 store (plain bodies) stays readable; a writer marks it format 2 before it can add
// compressed records, so a format-1 crawld refuses the store instead of failing on pages.
TEST(store, read_write_open_raises_an_older_format_and_read_only_open_leaves_it) {
  temp_dir tmp;
  std::mt19937 rng(7);
  std::string random_bytes(4096, '\0');
  for (char& c : random_bytes) c = static_cast<char>(rng());
  {
    auto s = open_ok(tmp.path());
    ASSERT_TRUE(s);
    auto old = make_page("http://a.test/old");
    old.body = random_bytes;  // LZ4 cannot shrink it: stored as a version 1 record, as format 1 did
    ASSERT_TRUE(s->put_pages({old}).ok());
    ASSERT_TRUE(s->put_meta("format_version", "1").ok());
  }
  {
    auto reader = open_ok(tmp.path(), reader_opts());
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->get_meta("format_version"), std::optional<std::string>("1"));
  }
  auto s = open_ok(tmp.path());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->get_meta("format_version"), std::to_string(storage::format_version));
  auto page = s->get_page("http://a.test/old");
  ASSERT_TRUE(page.ok()) << page.message();
  ASSERT_TRUE(page->has_value());
  EXPECT_EQ((*page)->body, random_bytes);
}

TEST(store, refuses_garbled_format_version) {
  temp_dir tmp;
  {
    auto s = open_ok(tmp.path());
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_meta("format_version", "1x").ok());
  }
  EXPECT_THAT(open_error(tmp.path()), HasSubstr("invalid format_version '1x'"));
}

TEST(store, missing_dir_without_create_is_error) {
  temp_dir tmp;
  EXPECT_EQ(open_error(tmp / "absent", existing_only()),
            "no crawl store at '" + (tmp / "absent") + "'");
  EXPECT_FALSE(fs::exists(tmp / "absent"));
  EXPECT_EQ(open_error(tmp.path(), existing_only()), "no crawl store at '" + tmp.path() + "'");
}

TEST(store, unwritable_path_is_clear_error) {
  temp_dir tmp;
  std::ofstream(tmp / "file") << "x";
  const std::string dir = tmp / "file/db";
  EXPECT_EQ(open_error(dir), "cannot create store directory '" + dir + "': Not a directory");
}

TEST(store, stats_counts_by_outcome_status_and_host) {
  temp_dir tmp;
  auto s = open_ok(tmp.path());
  ASSERT_TRUE(s);
  auto a = make_page("http://a.test/");
  a.body = "abc";
  a.wire_bytes = 10;
  a.fetched_at_ms = 1000;
  auto b = make_page("http://a.test/x", 404, "not_found");
  b.body = "";
  b.wire_bytes = 5;
  b.fetched_at_ms = 3000;
  auto c = make_page("http://b.test:8080/", 200, "ok");
  c.body = "hello";
  c.wire_bytes = 20;
  c.fetched_at_ms = 2000;
  auto d = make_page("https://c.test?q=1", 0, "timeout");
  d.body = "";
  d.wire_bytes = 0;
  d.fetched_at_ms = 1500;
  ASSERT_TRUE(s->put_pages({a, b, c, d}).ok());

  auto st = s->stats();
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(st->pages, 4u);
  EXPECT_EQ(st->body_bytes, 8u);
  EXPECT_EQ(st->wire_bytes, 35u);
  EXPECT_EQ(st->first_fetch_ms, 1000);
  EXPECT_EQ(st->last_fetch_ms, 3000);
  using counts = std::map<std::string, std::uint64_t>;
  EXPECT_EQ(st->by_outcome, (counts{{"ok", 2}, {"not_found", 1}, {"timeout", 1}}));
  EXPECT_EQ(st->by_status, (counts{{"200", 2}, {"404", 1}, {"0", 1}}));
  EXPECT_EQ(st->by_host,
            (counts{{"http://a.test", 2}, {"http://b.test:8080", 1}, {"https://c.test", 1}}));
}

TEST(store, stats_of_empty_store_is_zero) {
  temp_dir tmp;
  auto s = open_ok(tmp.path());
  ASSERT_TRUE(s);
  auto st = s->stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->pages, 0u);
  EXPECT_EQ(st->first_fetch_ms, 0);
  EXPECT_EQ(st->last_fetch_ms, 0);
  EXPECT_TRUE(st->by_host.empty());
}

TEST(store, for_each_page_stops_when_asked) {
  temp_dir tmp;
  auto s = open_ok(tmp.path());
  ASSERT_TRUE(s);
  std::vector<page_record> pages;
  for (int i = 0; i < 10; ++i) pages.push_back(make_page("http://a.test/" + std::to_string(i)));
  ASSERT_TRUE(s->put_pages(pages).ok());

  std::vector<std::string> seen;
  auto r = s->for_each_page([&](const page_record& p) {
    seen.push_back(p.url);
    return seen.size() < 3;
  });
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(seen,
            (std::vector<std::string>{"http://a.test/0", "http://a.test/1", "http://a.test/2"}));
}

TEST(store, corrupt_record_is_reported_with_its_key) {
  temp_dir tmp;
  ASSERT_TRUE(open_ok(tmp.path()));
  {
    // Write a foreign value into `pages` behind the store's back.
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (const char* name : {"default", "pages", "frontier", "seen", "hosts", "meta"})
      descs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), tmp.path(), descs, &handles, &raw).ok());
    EXPECT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[1], "http://bad.test/", "garbage").ok());
    for (auto* h : handles) EXPECT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
    delete raw;
  }
  auto s = open_ok(tmp.path());
  ASSERT_TRUE(s);
  auto page = s->get_page("http://bad.test/");
  ASSERT_FALSE(page.ok());
  EXPECT_THAT(page.message(), HasSubstr("corrupt record for 'http://bad.test/'"));
  auto st = s->stats();
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("corrupt record for 'http://bad.test/'"));
}

TEST(store, pages_survive_flush_to_table_files_and_reopen) {
  temp_dir tmp;
  constexpr int count = 240;  // ~24 MB of bodies: more than the 16 MB `pages` write buffer
  {
    auto s = open_ok(tmp.path());
    ASSERT_TRUE(s);
    for (int batch = 0; batch < count / 20; ++batch) {
      std::vector<page_record> pages;
      for (int i = batch * 20; i < batch * 20 + 20; ++i) {
        auto p = make_page("http://a.test/" + std::to_string(1000 + i));
        p.body.assign(100'000, static_cast<char>('a' + i % 26));
        pages.push_back(std::move(p));
      }
      ASSERT_TRUE(s->put_pages(pages).ok());
    }
  }
  // A read-write reopen replays the WAL into table files, so the read below goes to SSTs
  // whether or not the background flush finished before the first close.
  ASSERT_TRUE(open_ok(tmp.path()));
  bool has_sst = false;
  for (const auto& e : fs::directory_iterator(tmp.path()))
    has_sst |= e.path().extension() == ".sst";
  EXPECT_TRUE(has_sst) << "expected table files after reopening";

  auto s = open_ok(tmp.path(), reader_opts());
  ASSERT_TRUE(s);
  auto st = s->stats();
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(st->pages, static_cast<std::uint64_t>(count));
  EXPECT_EQ(st->body_bytes, static_cast<std::uint64_t>(count) * 100'000);
  auto last = s->get_page("http://a.test/" + std::to_string(1000 + count - 1));
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->body, std::string(100'000, static_cast<char>('a' + (count - 1) % 26)));
}

TEST(store, empty_directory_name_is_error) {
  EXPECT_EQ(open_error(""), "no store directory given");
}

TEST(store, for_each_page_turns_callback_exception_into_error) {
  temp_dir tmp;
  auto s = open_ok(tmp.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_pages({make_page("http://a.test/")}).ok());
  auto r = s->for_each_page([](const page_record&) -> bool { throw std::runtime_error("boom"); });
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("boom"));
}

}  // namespace
}  // namespace crawld::storage
