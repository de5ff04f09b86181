// `crawld serve`: the crawl daemon. One actors::runtime runs every job; an HTTP server
// (cpp-httplib, its own threads) answers the control API; a watcher thread samples the jobs once
// a second (recent pages/s) and persists each job's end; the main thread waits for signals.
//
// State directory layout (all written via temp file + rename):
//   jobs/<id>/job.toml    the job as submitted (JSON submissions: converted to TOML)
//   jobs/<id>/state       running | paused | finished | cancelled | failed
//   jobs/<id>/final.json  the job's status when it ended
//   jobs/<id>/added_urls  URLs added while it ran, one per line (seeds again after a restart)
//   jobs/<id>/store/      the job's crawl store (RocksDB)
//   token                 generated bearer token (0600) when none is configured
#include "app/serve.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <httplib.h>

#include "actors/cluster.hpp"
#include "actors/engine.hpp"
#include "app/commands.hpp"
#include "app/daemon_log.hpp"
#include "app/node.hpp"
#include "app/signals.hpp"
#include "base/constant_time.hpp"
#include "base/trim.hpp"
#include "conf/daemon_config.hpp"
#include "conf/job_file.hpp"
#include "conf/json.hpp"

namespace crawld::app {

namespace fs = std::filesystem;

namespace {

using steady = std::chrono::steady_clock;

// ---- files ----------------------------------------------------------------------------------

bool write_file(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      return false;
    out << text;
    out.flush();
    if (!out)
      return false;
  }
  ::chmod(tmp.c_str(), mode);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string random_token() {
  std::ifstream in("/dev/urandom", std::ios::binary);
  unsigned char buf[24] = {};
  in.read(reinterpret_cast<char*>(buf), sizeof buf);
  if (!in)
    return "";
  static const char* hex = "0123456789abcdef";
  std::string t;
  for (unsigned char c : buf) {
    t += hex[c >> 4];
    t += hex[c & 15];
  }
  return t;
}

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

// ---- jobs -----------------------------------------------------------------------------------

struct job_entry {
  std::string id, name, dir;
  std::optional<actors::job_handle> handle;  // none for jobs that ended before this daemon started
  std::string final_json;                     // their saved status
  std::string final_state;                    // their saved state word
  bool user_cancelled = false;
  bool persisted_end = false;
  // Sampled by the watcher.
  std::uint64_t last_pages = 0;
  steady::time_point last_at{};
  double recent_rate = 0;
  std::deque<double> rate_history;  // one sample a second, newest last (for the status page)
};

constexpr std::size_t rate_history_len = 120;

std::string status_json(const job_entry& e, const actors::job_snapshot& s, double recent_rate,
                        const std::deque<double>* history = nullptr) {
  const auto& p = s.prog;
  std::ostringstream o;
  o << "{\"id\":" << conf::quote(e.id) << ",\"name\":" << conf::quote(e.name)
    << ",\"state\":" << conf::quote(actors::to_string(s.phase)) << ",\"pages\":" << p.pages
    << ",\"pages_per_second\":" << num(p.seconds > 0 ? p.pages / p.seconds : 0)
    << ",\"recent_pages_per_second\":" << num(recent_rate) << ",\"queued\":" << p.queued
    << ",\"in_flight\":" << p.in_flight << ",\"failures\":" << p.failures << ",\"bytes\":" << s.bytes
    << ",\"admitted\":" << s.admitted << ",\"retries\":" << s.retries << ",\"seconds\":" << num(p.seconds)
    << ",\"outcomes\":{";
  bool first = true;
  for (std::size_t i = 0; i < fetch::outcome_count; ++i) {
    auto oc = static_cast<fetch::outcome>(i);
    o << (first ? "" : ",") << conf::quote(fetch::to_string(oc)) << ":" << s.outcomes[oc];
    first = false;
  }
  o << "},\"rejected\":{";
  first = true;
  for (const auto& [k, v] : s.rejected) {
    o << (first ? "" : ",") << conf::quote(k) << ":" << v;
    first = false;
  }
  o << "},\"hosts\":[";
  std::vector<std::pair<std::string, std::uint64_t>> hosts(s.hosts.begin(), s.hosts.end());
  std::sort(hosts.begin(), hosts.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (hosts.size() > 10)
    hosts.resize(10);
  first = true;
  for (const auto& [h, n] : hosts) {
    o << (first ? "" : ",") << "{\"host\":" << conf::quote(h) << ",\"pages\":" << n << "}";
    first = false;
  }
  o << "],\"hosts_total\":" << s.hosts.size();
  if (history) {
    o << ",\"rate_history\":[";
    for (std::size_t i = 0; i < history->size(); ++i)
      o << (i ? "," : "") << num((*history)[i]);
    o << "]";
  }
  if (!s.error.empty())
    o << ",\"error\":" << conf::quote(s.error);
  o << "}";
  return o.str();
}

std::string error_json(const std::string& msg) { return "{\"error\":" + conf::quote(msg) + "}"; }

class daemon {
 public:
  daemon(conf::daemon_config cfg, std::string token, daemon_log& log, bool networked = false,
         const actors::cluster_tls* tls = nullptr)
      : cfg_(std::move(cfg)), token_(std::move(token)), log_(log), rt_(cfg_.max_connections, networked, tls),
        tls_(tls != nullptr) {}

  /// Makes this daemon a cluster coordinator (before load_jobs). Error: one line.
  result<std::uint16_t> coordinate(const std::string& host, std::uint16_t port, const std::string& secret,
                                   const std::string& name) {
    actors::cluster_options co;
    co.name = name;
    co.secret = secret;
    co.host = host;
    co.port = port;
    co.tls = tls_;
    auto c = actors::cluster::coordinate(rt_, co);
    if (!c)
      return c.err();
    cluster_ = std::move(*c);
    cluster_name_ = name;
    return cluster_->port();
  }

  std::string jobs_dir() const { return cfg_.state_dir + "/jobs"; }

  /// Restarts the jobs that were running (or paused) and lists the ended ones.
  void load_jobs() {
    std::vector<std::pair<long, std::string>> ids;
    std::error_code ec;
    for (const auto& d : fs::directory_iterator(jobs_dir(), ec)) {
      auto name = d.path().filename().string();
      if (!d.is_directory() || name.empty() || name.find_first_not_of("0123456789") != std::string::npos ||
          name.size() > 9)
        continue;
      ids.emplace_back(std::stol(name), name);
    }
    std::sort(ids.begin(), ids.end());
    for (const auto& [n, id] : ids) {
      next_id_ = std::max(next_id_, n + 1);
      auto e = std::make_shared<job_entry>();
      e->id = id;
      e->dir = jobs_dir() + "/" + id;
      auto state = trim(read_file(e->dir + "/state").value_or("failed"));
      auto spec = read_file(e->dir + "/job.toml");
      if (spec) {
        auto job = conf::load_job_string(*spec, "job " + id);
        e->name = job.name;
      }
      if ((state == "running" || state == "paused") && spec) {
        std::string err;
        if (start(e, *spec, "job " + id, err)) {
          if (state == "paused")
            e->handle->pause();
          log_.line("job " + id + " restarted (" + state + ")");
        } else {
          log_.line("job " + id + " could not be restarted: " + err);
          end_from_disk(e, "failed", "{\"id\":" + conf::quote(id) + ",\"state\":\"failed\",\"error\":" +
                                         conf::quote("restart failed: " + err) + "}");
          write_file(e->dir + "/state", "failed\n");
        }
      } else {
        auto fin = read_file(e->dir + "/final.json");
        end_from_disk(e, state, fin ? trim(*fin)
                                    : "{\"id\":" + conf::quote(id) + ",\"state\":" + conf::quote(state) + "}");
      }
      std::lock_guard<std::mutex> g(m_);
      jobs_[n] = e;
    }
  }

  bool bind() {
    install_routes();
    return svr_.bind_to_port(cfg_.listen, cfg_.port);
  }

  void run_in_background() {
    http_ = std::thread([this] { svr_.listen_after_bind(); });
    watcher_ = std::thread([this] { watch(); });
  }

  /// Graceful stop: no more API calls; every job stopped and waited for; ends persisted.
  void shutdown() {
    stopping_.store(true);
    svr_.stop();
    if (http_.joinable())
      http_.join();
    {
      std::lock_guard<std::mutex> g(watch_m_);
      watch_cv_.notify_all();
    }
    if (watcher_.joinable())
      watcher_.join();
    auto all = entries();
    for (auto& e : all)
      if (e->handle)
        e->handle->cancel();
    bool abandoned = false;
    for (auto& e : all) {
      if (!e->handle)
        continue;
      auto r = e->handle->wait(std::chrono::seconds(60));
      if (!r)
        continue;
      if (*r && (*r)->abandoned > 0)
        abandoned = true;
      // A job that finished by itself, failed or was cancelled by a user ends here; one stopped
      // by the shutdown stays "running" so the next daemon restarts it.
      bool by_user = e->user_cancelled;
      bool finished = *r && !(*r)->interrupted;
      if (!*r || finished || by_user)
        persist_end(*e);
    }
    log_.line("stopped");
    if (abandoned)
      std::_Exit(0);  // fetchers still blocked in requests; every store is closed
  }

 private:
  std::vector<std::shared_ptr<job_entry>> entries() {
    std::lock_guard<std::mutex> g(m_);
    std::vector<std::shared_ptr<job_entry>> v;
    for (auto& [n, e] : jobs_)
      v.push_back(e);
    return v;
  }

  std::shared_ptr<job_entry> find(const std::string& id) {
    if (id.empty() || id.size() > 9 || id.find_first_not_of("0123456789") != std::string::npos)
      return nullptr;
    std::lock_guard<std::mutex> g(m_);
    auto it = jobs_.find(std::stol(id));
    return it == jobs_.end() ? nullptr : it->second;
  }

  void end_from_disk(const std::shared_ptr<job_entry>& e, const std::string& state, std::string json) {
    e->final_state = state;
    e->final_json = std::move(json);
    e->persisted_end = true;
  }

  /// Loads the spec (job-file TOML), puts the store under the job's directory, adds the URLs
  /// added earlier, and starts the job.
  bool start(const std::shared_ptr<job_entry>& e, const std::string& spec, const std::string& name,
             std::string& err, std::vector<conf::job_error>* errors = nullptr) {
    auto job = conf::load_job_string(spec, name);
    if (!job.ok()) {
      if (errors)
        *errors = job.errors;
      err = conf::to_string(job.errors.front());
      return false;
    }
    auto& o = job.options;
    e->name = job.name;
    o.db = e->dir + "/store";
    o.progress = false;
    o.verbose = false;
    if (o.user_agent.empty())
      o.user_agent = std::string("crawld/") + CRAWLD_VERSION;
    if (auto added = read_file(e->dir + "/added_urls")) {
      std::istringstream in(*added);
      for (std::string line; std::getline(in, line);)
        if (!trim(line).empty())
          o.seeds.push_back(trim(line));
    }
    if (auto v = conf::validate(o); !v) {
      err = v.message();
      return false;
    }
    std::shared_ptr<actors::cluster_job_hook> hook;
    if (cluster_) {
      o.user_agent += " crawld-node/" + cluster_name_;
      hook = cluster_->start_job(e->id, spec, o.seeds);
    }
    auto h = rt_.start_job(o, std::chrono::seconds(5), false, hook);
    if (!h) {
      err = h.message();
      return false;
    }
    e->handle = std::move(*h);
    e->last_at = steady::now();
    return true;
  }

  void persist_end(job_entry& e) {
    if (e.persisted_end || !e.handle)
      return;
    auto s = e.handle->snapshot();
    std::string state = actors::to_string(s.phase);
    write_file(e.dir + "/final.json", status_json(e, s, 0) + "\n");
    write_file(e.dir + "/state", state + "\n");
    e.persisted_end = true;
    log_.line("job " + e.id + " " + state + ": " + std::to_string(s.prog.pages) + " pages in " +
              num(s.prog.seconds) + " s" + (s.error.empty() ? "" : " (" + s.error + ")"));
  }

  void watch() {
    while (!stopping_.load()) {
      while (cluster_) {
        auto ev = cluster_->next_event(std::chrono::milliseconds(0));
        if (!ev)
          break;
        if (ev->what == actors::cluster_event::kind::member_down)
          log_.line("cluster member " + ev->node + " is gone: its hosts moved, seeds re-sent");
      }
      for (auto& e : entries()) {
        if (!e->handle || e->persisted_end)
          continue;
        if (e->handle->done()) {
          if (!stopping_.load())
            persist_end(*e);
          continue;
        }
        auto s = e->handle->snapshot();
        auto now = steady::now();
        double dt = std::chrono::duration<double>(now - e->last_at).count();
        std::lock_guard<std::mutex> g(m_);
        if (dt > 0.2) {
          e->recent_rate = s.prog.pages >= e->last_pages ? (s.prog.pages - e->last_pages) / dt : 0;
          e->rate_history.push_back(s.phase == actors::job_phase::running ? e->recent_rate : 0);
          if (e->rate_history.size() > rate_history_len)
            e->rate_history.pop_front();
          e->last_pages = s.prog.pages;
          e->last_at = now;
        }
      }
      std::unique_lock<std::mutex> g(watch_m_);
      watch_cv_.wait_for(g, std::chrono::seconds(1), [this] { return stopping_.load(); });
    }
  }

  std::string job_json(job_entry& e) {
    if (!e.handle)
      return e.final_json;
    auto s = e.handle->snapshot();
    double rate;
    std::deque<double> history;
    {
      std::lock_guard<std::mutex> g(m_);
      rate = e.recent_rate;
      history = e.rate_history;
    }
    auto j = status_json(e, s, s.phase == actors::job_phase::running ? rate : 0, &history);
    if (cluster_) {  // the members' figures for this job (docs/cluster.md)
      j.pop_back();
      j += ",\"cluster\":" + cluster_job_json(e.id) + "}";
    }
    return j;
  }

  bool authorized(const httplib::Request& req, httplib::Response& res) {
    auto h = req.get_header_value("Authorization");
    std::string given = h.rfind("Bearer ", 0) == 0 ? h.substr(7) : "";
    if (!given.empty() && constant_time_equal(given, token_))
      return true;
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content(error_json("missing or wrong bearer token"), "application/json");
    return false;
  }

  static void reply(httplib::Response& res, int status, const std::string& json) {
    res.status = status;
    res.set_content(json + "\n", "application/json");
  }

  void submit(const httplib::Request& req, httplib::Response& res) {
    std::string spec;
    auto ct = req.get_header_value("Content-Type");
    auto first = req.body.find_first_not_of(" \t\r\n");
    bool is_json = ct.find("json") != std::string::npos ||
                   (ct.find("toml") == std::string::npos && first != std::string::npos && req.body[first] == '{');
    if (is_json) {
      auto t = conf::job_toml_from_json(req.body);
      if (!t)
        return reply(res, 400, error_json(t.message()));
      spec = *t;
    } else {
      spec = req.body;
    }
    // Validate first, so a bad job leaves nothing behind (not even a used id).
    auto check = conf::load_job_string(spec, "job");
    if (check.ok()) {
      auto o = check.options;
      if (o.user_agent.empty())
        o.user_agent = "crawld";
      if (auto v = conf::validate(o); !v)
        check.errors.push_back({"job", 0, 0, v.message()});
    }
    if (!check.ok()) {
      std::ostringstream o;
      o << "{\"error\":" << conf::quote(conf::to_string(check.errors.front())) << ",\"errors\":[";
      for (std::size_t i = 0; i < check.errors.size(); ++i) {
        const auto& er = check.errors[i];
        // Positions refer to the TOML text; for a JSON body they would point into the conversion.
        o << (i ? "," : "") << "{\"message\":" << conf::quote(er.message);
        if (!is_json && er.line > 0)
          o << ",\"line\":" << er.line << ",\"column\":" << er.column;
        o << "}";
      }
      o << "]}";
      return reply(res, 400, o.str());
    }
    long n;
    {
      std::lock_guard<std::mutex> g(m_);
      auto live = std::count_if(jobs_.begin(), jobs_.end(),
                                [](const auto& kv) { return kv.second->handle && !kv.second->handle->done(); });
      if (live >= cfg_.max_jobs)
        return reply(res, 429, error_json("too many jobs running (max_jobs = " + std::to_string(cfg_.max_jobs) + ")"));
      n = next_id_++;
    }
    auto e = std::make_shared<job_entry>();
    e->id = std::to_string(n);
    e->dir = jobs_dir() + "/" + e->id;
    std::error_code ec;
    fs::create_directories(e->dir, ec);
    if (ec || !write_file(e->dir + "/job.toml", spec) || !write_file(e->dir + "/state", "running\n"))
      return reply(res, 500, error_json("cannot write the job's state in " + e->dir));
    std::string err;
    if (!start(e, spec, "job", err)) {
      write_file(e->dir + "/state", "failed\n");
      end_from_disk(e, "failed", "{\"id\":" + conf::quote(e->id) + ",\"state\":\"failed\",\"error\":" + conf::quote(err) + "}");
      write_file(e->dir + "/final.json", e->final_json + "\n");
      {
        std::lock_guard<std::mutex> g(m_);
        jobs_[n] = e;
      }
      log_.line("job " + e->id + " failed to start: " + err);
      return reply(res, 400, error_json(err));
    }
    {
      std::lock_guard<std::mutex> g(m_);
      jobs_[n] = e;
    }
    log_.line("job " + e->id + " started" + (e->name.empty() ? "" : " (" + e->name + ")"));
    res.set_header("Location", "/v1/jobs/" + e->id);
    reply(res, 201, "{\"id\":" + conf::quote(e->id) + "}");
  }

  void control(const std::string& id, const std::string& action, httplib::Response& res) {
    auto e = find(id);
    if (!e)
      return reply(res, 404, error_json("no job '" + id + "'"));
    if (!e->handle || e->handle->done())
      return reply(res, 409, error_json("job " + id + " has ended"));
    if (action == "pause") {
      e->handle->pause();
      write_file(e->dir + "/state", "paused\n");
      if (cluster_)
        cluster_->pause_job(e->id, true);  // every member pauses its run (docs/cluster.md)
    } else if (action == "resume") {
      e->handle->resume();
      write_file(e->dir + "/state", "running\n");
      if (cluster_)
        cluster_->pause_job(e->id, false);
    } else {
      e->user_cancelled = true;
      e->handle->cancel();
      if (cluster_)
        cluster_->cancel_job(e->id);
    }
    log_.line("job " + id + " " + action);
    reply(res, 200, job_json(*e));
  }

  void add_urls(const std::string& id, const httplib::Request& req, httplib::Response& res) {
    auto e = find(id);
    if (!e)
      return reply(res, 404, error_json("no job '" + id + "'"));
    if (!e->handle || e->handle->done())
      return reply(res, 409, error_json("job " + id + " has ended"));
    auto j = conf::parse_json(req.body);
    if (!j)
      return reply(res, 400, error_json("bad JSON: " + j.message()));
    const conf::json* list = j->type == conf::json::kind::array ? &*j : j->find("urls");
    if (!list || list->type != conf::json::kind::array)
      return reply(res, 400, error_json("expected {\"urls\": [\"http://...\", ...]}"));
    std::vector<std::string> urls;
    for (const auto& u : list->items) {
      if (u.type != conf::json::kind::string)
        return reply(res, 400, error_json("'urls' must be an array of strings"));
      urls.push_back(u.str);
    }
    auto r = e->handle->add_urls(urls);
    if (!r)
      return reply(res, 409, error_json(r.message()));
    // Remember the accepted ones, so a restarted daemon crawls them too.
    std::string lines;
    for (const auto& u : urls) {
      bool rejected = std::any_of(r->rejected.begin(), r->rejected.end(), [&](const auto& p) { return p.first == u; });
      if (!rejected && u.find('\n') == std::string::npos)
        lines += u + "\n";
    }
    {
      std::lock_guard<std::mutex> g(m_);
      auto old = read_file(e->dir + "/added_urls").value_or("");
      write_file(e->dir + "/added_urls", old + lines);
    }
    std::ostringstream o;
    o << "{\"accepted\":" << r->accepted << ",\"rejected\":[";
    for (std::size_t i = 0; i < r->rejected.size(); ++i)
      o << (i ? "," : "") << "{\"url\":" << conf::quote(r->rejected[i].first)
        << ",\"reason\":" << conf::quote(r->rejected[i].second) << "}";
    o << "]}";
    reply(res, 200, o.str());
  }

  std::string metrics() {
    std::ostringstream o;
    struct row {
      std::string id;
      actors::job_snapshot s;
    };
    std::vector<row> live;
    std::map<std::string, int> by_state;
    for (const char* st : {"running", "paused", "stopping", "finished", "cancelled", "failed"})
      by_state[st] = 0;
    for (auto& e : entries()) {
      if (e->handle) {
        auto s = e->handle->snapshot();
        ++by_state[actors::to_string(s.phase)];
        live.push_back({e->id, std::move(s)});
      } else {
        ++by_state[by_state.count(e->final_state) ? e->final_state : "failed"];
      }
    }
    auto family = [&](const char* name, const char* type, const char* help) {
      o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
    };
    family("crawld_jobs", "gauge", "Jobs known to the daemon, by state.");
    for (auto& [st, n] : by_state)
      o << "crawld_jobs{state=\"" << st << "\"} " << n << '\n';
    auto per_job = [&](const char* name, const char* type, const char* help, auto get) {
      family(name, type, help);
      for (auto& r : live)
        o << name << "{job=\"" << r.id << "\"} " << get(r.s) << '\n';
    };
    per_job("crawld_job_pages_total", "counter", "URLs requested and finished by the job.",
            [](const actors::job_snapshot& s) { return s.prog.pages; });
    per_job("crawld_job_bytes_total", "counter", "Body bytes received by the job.",
            [](const actors::job_snapshot& s) { return s.bytes; });
    per_job("crawld_job_admitted_total", "counter", "URLs admitted to the job's frontier.",
            [](const actors::job_snapshot& s) { return s.admitted; });
    per_job("crawld_job_retries_total", "counter", "Extra attempts after retryable failures.",
            [](const actors::job_snapshot& s) { return s.retries; });
    per_job("crawld_job_queued", "gauge", "URLs admitted and waiting to be fetched.",
            [](const actors::job_snapshot& s) { return s.prog.queued; });
    per_job("crawld_job_in_flight", "gauge", "URLs handed to fetchers and not finished.",
            [](const actors::job_snapshot& s) { return s.prog.in_flight; });
    per_job("crawld_job_hosts", "gauge", "Hosts with at least one finished URL.",
            [](const actors::job_snapshot& s) { return s.hosts.size(); });
    family("crawld_job_outcomes_total", "counter", "Finished URLs by outcome.");
    for (auto& r : live)
      for (std::size_t i = 0; i < fetch::outcome_count; ++i) {
        auto oc = static_cast<fetch::outcome>(i);
        o << "crawld_job_outcomes_total{job=\"" << r.id << "\",outcome=\"" << fetch::to_string(oc) << "\"} "
          << r.s.outcomes[oc] << '\n';
      }
    std::uint64_t pages = 0, bytes = 0, in_flight = 0;
    const auto& bounds = actors::latency_histogram::bounds();
    std::vector<std::uint64_t> buckets(bounds.size() + 1, 0);
    double sum = 0;
    std::uint64_t count = 0;
    for (auto& r : live) {
      pages += r.s.prog.pages;
      bytes += r.s.bytes;
      in_flight += r.s.prog.in_flight;
      for (std::size_t i = 0; i < buckets.size() && i < r.s.latency.counts.size(); ++i)
        buckets[i] += r.s.latency.counts[i];
      sum += r.s.latency.sum_s;
      count += r.s.latency.count;
    }
    family("crawld_pages_total", "counter", "URLs requested and finished by the jobs of this daemon process.");
    o << "crawld_pages_total " << pages << '\n';
    family("crawld_bytes_total", "counter", "Body bytes received by the jobs of this daemon process.");
    o << "crawld_bytes_total " << bytes << '\n';
    family("crawld_in_flight", "gauge", "Requests in flight over all jobs.");
    o << "crawld_in_flight " << in_flight << '\n';
    family("crawld_max_connections", "gauge", "The global bound on requests in flight.");
    o << "crawld_max_connections " << cfg_.max_connections << '\n';
    family("crawld_fetch_latency_seconds", "histogram", "Time from request start to the last body byte.");
    std::uint64_t cum = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      cum += buckets[i];
      char le[32];
      std::snprintf(le, sizeof le, "%g", bounds[i]);
      o << "crawld_fetch_latency_seconds_bucket{le=\"" << le << "\"} " << cum << '\n';
    }
    cum += buckets.back();
    o << "crawld_fetch_latency_seconds_bucket{le=\"+Inf\"} " << cum << '\n';
    o << "crawld_fetch_latency_seconds_sum " << sum << '\n';
    o << "crawld_fetch_latency_seconds_count " << count << '\n';
    if (cluster_)
      o << cluster_metrics();
    return o.str();
  }

  // ---- cluster (docs/cluster.md) ----

  std::string cluster_json() {
    auto s = cluster_->status();
    std::ostringstream o;
    o << "{\"self\":" << conf::quote(s.self) << ",\"members\":[";
    for (std::size_t i = 0; i < s.members.size(); ++i) {
      const auto& m = s.members[i];
      o << (i ? "," : "") << "{\"name\":" << conf::quote(m.name) << ",\"coordinator\":" << (m.self ? "true" : "false")
        << ",\"pages\":" << m.pages << ",\"pages_per_second\":" << num(m.pages_per_second)
        << ",\"hosts\":" << m.hosts << ",\"queued\":" << m.queued << ",\"in_flight\":" << m.in_flight
        << ",\"forwarded\":" << m.forwarded << ",\"acked\":" << m.acked << ",\"received\":" << m.received
        << ",\"rejected_batches\":" << m.rejected_batches << ",\"idle\":" << (m.idle ? "true" : "false") << "}";
    }
    o << "],\"departed\":[";
    for (std::size_t i = 0; i < s.departed.size(); ++i)
      o << (i ? "," : "") << conf::quote(s.departed[i]);
    o << "],\"rejected_joins\":" << s.rejected_joins << "}";
    return o.str();
  }

  /// One job's members (newest polling round): name, pages, queued, in flight, hosts,
  /// forwarded, acked, received, idle; plus the cluster's departed members.
  std::string cluster_job_json(const std::string& id) {
    auto ms = cluster_->job_status(id);
    std::uint64_t forwarded = 0, acked = 0;
    std::ostringstream o;
    o << "{\"members\":[";
    for (std::size_t i = 0; i < ms.size(); ++i) {
      const auto& m = ms[i];
      forwarded += m.forwarded;
      acked += m.acked;
      o << (i ? "," : "") << "{\"name\":" << conf::quote(m.name) << ",\"coordinator\":" << (m.self ? "true" : "false")
        << ",\"pages\":" << m.pages << ",\"queued\":" << m.queued << ",\"in_flight\":" << m.in_flight
        << ",\"hosts\":" << m.hosts << ",\"forwarded\":" << m.forwarded << ",\"acked\":" << m.acked
        << ",\"received\":" << m.received << ",\"idle\":" << (m.idle ? "true" : "false") << "}";
    }
    o << "],\"forwarded\":" << forwarded << ",\"acked\":" << acked << ",\"departed\":[";
    auto s = cluster_->status();
    for (std::size_t i = 0; i < s.departed.size(); ++i)
      o << (i ? "," : "") << conf::quote(s.departed[i]);
    o << "]}";
    return o.str();
  }

  std::string cluster_metrics() {
    auto s = cluster_->status();
    std::ostringstream o;
    auto family = [&](const char* name, const char* type, const char* help) {
      o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
    };
    family("crawld_cluster_members", "gauge", "Live cluster members, this coordinator included.");
    o << "crawld_cluster_members " << s.members.size() << '\n';
    family("crawld_cluster_departed_total", "counter", "Members that died or left.");
    o << "crawld_cluster_departed_total " << s.departed.size() << '\n';
    family("crawld_cluster_rejected_joins_total", "counter", "Joins refused (wrong secret or name taken).");
    o << "crawld_cluster_rejected_joins_total " << s.rejected_joins << '\n';
    auto per_node = [&](const char* name, const char* type, const char* help, auto get) {
      family(name, type, help);
      for (const auto& m : s.members)
        o << name << "{node=\"" << m.name << "\"} " << get(m) << '\n';
    };
    using ms = actors::cluster_member_status;
    per_node("crawld_cluster_node_pages", "gauge", "URLs finished by the member in its newest polled job.",
             [](const ms& m) { return m.pages; });
    per_node("crawld_cluster_node_pages_per_second", "gauge", "Pages per second of the member over the last poll.",
             [](const ms& m) { return num(m.pages_per_second); });
    per_node("crawld_cluster_node_hosts", "gauge", "Hosts with URLs admitted on the member.",
             [](const ms& m) { return m.hosts; });
    per_node("crawld_cluster_node_forwarded_urls", "gauge", "URLs the member sent to other members.",
             [](const ms& m) { return m.forwarded; });
    per_node("crawld_cluster_node_acked_urls", "gauge", "Forwarded URLs acknowledged as durable by their receiver.",
             [](const ms& m) { return m.acked; });
    per_node("crawld_cluster_node_received_urls", "gauge", "URLs the member received and committed.",
             [](const ms& m) { return m.received; });
    return o.str();
  }

  void install_routes() {
    svr_.set_payload_max_length(cfg_.max_body_bytes);
    svr_.set_read_timeout(10, 0);
    svr_.set_write_timeout(10, 0);
    svr_.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        if (ep)
          std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what += std::string(": ") + e.what();
      } catch (...) {
      }
      log_.line(what);
      reply(res, 500, error_json(what));
    });
    svr_.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) {
        std::string msg = res.status == 404   ? "no such endpoint"
                          : res.status == 413 ? "request body too large"
                                              : "request refused";
        res.set_content(error_json(msg) + "\n", "application/json");
      }
    });
    svr_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { reply(res, 200, "{\"status\":\"ok\"}"); });
    svr_.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(status_page_html(), "text/html; charset=utf-8");
    });
    svr_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    svr_.Get("/v1/cluster", [this](const httplib::Request&, httplib::Response& res) {
      if (!cluster_)
        return reply(res, 404, error_json("this daemon is not a cluster coordinator (--cluster-listen)"));
      reply(res, 200, cluster_json());
    });
    svr_.Get("/v1/jobs", [this](const httplib::Request&, httplib::Response& res) {
      std::string out = "{\"jobs\":[";
      bool first = true;
      for (auto& e : entries()) {
        out += (first ? "" : ",") + job_json(*e);
        first = false;
      }
      reply(res, 200, out + "]}");
    });
    svr_.Post("/v1/jobs", [this](const httplib::Request& req, httplib::Response& res) {
      if (authorized(req, res))
        submit(req, res);
    });
    svr_.Get(R"(/v1/jobs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      auto e = find(req.matches[1]);
      if (!e)
        return reply(res, 404, error_json("no job '" + std::string(req.matches[1]) + "'"));
      reply(res, 200, job_json(*e));
    });
    svr_.Post(R"(/v1/jobs/([^/]+)/(pause|resume|cancel))", [this](const httplib::Request& req, httplib::Response& res) {
      if (authorized(req, res))
        control(req.matches[1], req.matches[2], res);
    });
    svr_.Post(R"(/v1/jobs/([^/]+)/urls)", [this](const httplib::Request& req, httplib::Response& res) {
      if (authorized(req, res))
        add_urls(req.matches[1], req, res);
    });
  }

  conf::daemon_config cfg_;
  std::string token_;
  daemon_log& log_;
  actors::runtime rt_;
  std::unique_ptr<actors::cluster> cluster_;  // declared after rt_: destroyed before it
  std::string cluster_name_;
  bool tls_ = false;
  httplib::Server svr_;
  std::thread http_, watcher_;
  std::mutex m_;
  std::map<long, std::shared_ptr<job_entry>> jobs_;
  long next_id_ = 1;
  std::atomic<bool> stopping_{false};
  std::mutex watch_m_;
  std::condition_variable watch_cv_;
};

}  // namespace

int cmd_serve(const std::string& config_path) { return cmd_serve(config_path, serve_cluster_flags{}); }

int cmd_serve(const std::string& config_path, const serve_cluster_flags& cluster) {
  auto loaded = conf::load_daemon_config(config_path);
  for (const auto& e : loaded.errors)
    print_error(conf::to_string(e));
  if (!loaded.ok())
    return 2;
  auto cfg = loaded.config;
  std::optional<std::pair<std::string, std::uint16_t>> cluster_addr;
  std::string cluster_secret;
  if (!cluster.listen.empty()) {
    auto a = parse_host_port(cluster.listen);
    if (!a) {
      print_error("--cluster-listen: " + a.message());
      return 2;
    }
    cluster_addr = *a;
    auto path = !cluster.secret_file.empty() ? cluster.secret_file : cfg.cluster_secret_file;
    if (path.empty()) {
      print_error("--cluster-listen needs a cluster secret: --cluster-secret-file or cluster_secret_file in the config");
      return 2;
    }
    auto s = load_cluster_secret(path);
    if (!s) {
      print_error(s.message());
      return 1;
    }
    cluster_secret = *s;
    if (auto t = check_cluster_tls(cluster.cert, cluster.key, cluster.ca); !t) {
      print_error(t.message());
      return 2;
    }
  }
  actors::cluster_tls tls{cluster.cert, cluster.key, cluster.ca};

  // Signals are taken by sigwait in this thread; block them before any thread starts.
  const sigset_t set = block_daemon_signals();

  std::error_code ec;
  fs::create_directories(cfg.state_dir + "/jobs", ec);
  if (ec || ::access((cfg.state_dir + "/jobs").c_str(), W_OK) != 0) {
    print_error("cannot write the state directory '" + cfg.state_dir + "'");
    return 1;
  }
  daemon_log log(cfg.log_file, "crawld");
  if (!log.ok()) {
    print_error("cannot open the log file '" + cfg.log_file + "'");
    return 1;
  }

  std::string token;
  if (!cfg.token_file.empty()) {
    auto t = read_file(cfg.token_file);
    if (!t) {
      print_error("cannot read token_file '" + cfg.token_file + "'");
      return 1;
    }
    token = trim(t->substr(0, t->find('\n')));
    if (token.empty()) {
      print_error("token_file '" + cfg.token_file + "' is empty");
      return 1;
    }
  } else if (!cfg.token_env.empty()) {
    if (const char* v = std::getenv(cfg.token_env.c_str()))
      token = trim(v);
  }
  if (token.empty()) {
    if (!conf::is_loopback(cfg.listen)) {
      print_error("refusing to listen on " + cfg.listen + " (not loopback) without a token: set token_file or $" +
                  (cfg.token_env.empty() ? std::string("CRAWLD_TOKEN") : cfg.token_env));
      return 1;
    }
    // Loopback without a configured token: make one, readable by this user only.
    std::string path = cfg.state_dir + "/token";
    auto old = read_file(path);
    token = old ? trim(*old) : "";
    if (token.empty()) {
      token = random_token();
      if (token.empty() || !write_file(path, token + "\n", 0600)) {
        print_error("cannot write a token to '" + path + "'");
        return 1;
      }
    }
    log.line("no token configured: state-changing calls need the token in " + path);
  }

  int rc = 0;
  {
    daemon d(cfg, token, log, cluster_addr.has_value(), cluster.cert.empty() ? nullptr : &tls);
    if (!d.bind()) {
      print_error("cannot listen on " + cfg.listen + ":" + std::to_string(cfg.port) + " (address in use or not local)");
      return 1;
    }
    if (cluster_addr) {
      auto p = d.coordinate(cluster_addr->first, cluster_addr->second, cluster_secret, cluster.name);
      if (!p) {
        print_error(p.message());
        return 1;
      }
      log.line("cluster coordinator " + cluster.name + " listening on " + cluster_addr->first + ":" + std::to_string(*p));
    }
    d.load_jobs();
    d.run_in_background();
    log.line("listening on http://" + cfg.listen + ":" + std::to_string(cfg.port) + "/ (state in " + cfg.state_dir + ")");
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0)
        continue;
      if (sig == SIGHUP) {
        log.reopen();
        log.line("log reopened (SIGHUP)");
        continue;
      }
      log.line(std::string("stopping (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
      break;
    }
    d.shutdown();
  }
  return rc;
}

}  // namespace crawld::app
