// crawld's command line: the only translation unit that includes CLI11 (slow to compile).
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "app/export_cmd.hpp"
#include "app/robots_cmd.hpp"
#include "app/node.hpp"
#include "app/sched_policy.hpp"
#include "app/serve.hpp"
#include "conf/job_file.hpp"
#include "conf/seed_request.hpp"
#include "conf/url_list.hpp"

namespace crawld::app {

void print_error(const std::string& message) { std::cerr << "crawld: " << message << std::endl; }

namespace {

std::chrono::milliseconds seconds_to_ms(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

/// "GLOB:delay=MS,per-host=N" (either setting may be left out).
bool parse_domain_rule(const std::string& text, conf::domain_rule& out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  out.glob = text.substr(0, colon);
  std::string rest = text.substr(colon + 1);
  std::size_t pos = 0;
  while (pos <= rest.size()) {
    auto comma = rest.find(',', pos);
    auto item = rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    auto eq = item.find('=');
    if (eq == std::string::npos)
      return false;
    auto key = item.substr(0, eq), value = item.substr(eq + 1);
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos || value.size() > 9)
      return false;
    if (key == "delay")
      out.delay = std::chrono::milliseconds(std::stoll(value));
    else if (key == "per-host")
      out.per_host = std::stoi(value);
    else
      return false;
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return out.delay || out.per_host;
}

}  // namespace
}  // namespace crawld::app

int main(int argc, char** argv) {
  using namespace crawld;
  using namespace crawld::app;
  use_batch_scheduling();  // before any thread starts: they inherit it
  CLI::App cli{"crawld: a polite, fast web crawler built on actors"};
  cli.set_version_flag("--version", version_text());
  cli.require_subcommand(1);

  // crawl
  conf::crawl_options co;
  crawl_flags cf;
  double connect_s = 10, read_s = 30, total_s = 60;
  long long delay_ms = 0;
  std::vector<std::string> headers;
  double max_body_mib = 16;
  auto* crawl = cli.add_subcommand("crawl", "Crawl from seed URLs until nothing is left (or a limit is hit)");
  std::string urls_file;
  crawl->add_option("urls", co.seeds, "Seed URLs (http or https)");
  crawl->add_option("--urls", urls_file,
                    "Read URLs from a file, one per line ('-': stdin); with --depth 0 fetch exactly those. "
                    "Exit 3 when any of them failed");
  crawl->add_option("--depth", co.max_depth, "Maximum link depth from the seeds (-1: unlimited)")->capture_default_str();
  crawl->add_option("--max-pages", co.max_pages, "Fetch at most this many URLs (0: unlimited); more may be known")->capture_default_str();
  crawl->add_option("--concurrency", co.concurrency, "Requests in flight in total")->capture_default_str();
  crawl->add_option("--per-host", co.per_host, "Requests in flight per host")->capture_default_str();
  crawl->add_option("--delay", delay_ms, "Minimum milliseconds between request starts to one host")->capture_default_str();
  crawl->add_option("--db", co.db, "Store pages in this crawl store (RocksDB directory)");
  crawl->add_option("--allow-domain", co.allow_domains, "Also crawl this domain and its subdomains (repeatable)");
  crawl->add_option("--include", co.include, "Only crawl URLs matching this regex (repeatable)");
  crawl->add_option("--exclude", co.exclude, "Never crawl URLs matching this regex (repeatable)");
  crawl->add_option("--user-agent", co.user_agent, "User-Agent header (default crawld/<version>)");
  crawl->add_option("--header", headers, "Extra request header 'Name: value' (repeatable)");
  crawl->add_option("--connect-timeout", connect_s, "Connect timeout, seconds")->capture_default_str();
  crawl->add_option("--read-timeout", read_s, "Read timeout, seconds")->capture_default_str();
  crawl->add_option("--timeout", total_s, "Total time for one request, seconds")->capture_default_str();
  crawl->add_option("--max-body", max_body_mib, "Cap on a decoded body, MiB (a longer one is cut: too_large)")->capture_default_str();
  crawl->add_option("--max-redirects", co.max_redirects, "Redirect hops followed from one URL")->capture_default_str();
  crawl->add_flag("--keep-non-html", co.keep_non_html_body, "Store bodies of non-HTML responses too");
  crawl->add_option("--parsers", co.parsers, "Parser actors (0: one per core)")->capture_default_str();
  bool ignore_robots = false;
  double max_crawl_delay_s = 30, robots_ttl_h = 24;
  long long backoff_ms = 1000;
  std::vector<std::string> domain_rules;
  crawl->add_flag("--ignore-robots", ignore_robots, "Do not fetch or obey robots.txt (be sure you may)");
  crawl->add_option("--robots-ttl", robots_ttl_h, "Hours a fetched robots.txt stays valid")->capture_default_str();
  crawl->add_option("--max-crawl-delay", max_crawl_delay_s, "Park hosts whose robots.txt asks for a longer Crawl-delay, seconds")->capture_default_str();
  crawl->add_option("--retries", co.max_retries, "Extra attempts for 5xx, 429, timeouts and network errors")->capture_default_str();
  crawl->add_option("--park-after", co.park_after, "Park a host after this many consecutive failures")->capture_default_str();
  crawl->add_option("--backoff", backoff_ms, "First back-off after a failure, ms (doubles per failure, with jitter)")->capture_default_str();
  crawl->add_option("--domain-rule", domain_rules, "Per-domain politeness 'GLOB:delay=MS,per-host=N' (repeatable; first match wins)");
  crawl->add_option("--politeness-key", co.politeness_key,
                    "What shares one politeness budget: host, or ip (hosts on one address share delay and limits)")
    ->capture_default_str();
  crawl->add_option("--max-pages-per-host", co.max_pages_per_host, "Admit at most this many URLs per host (0: unlimited)")->capture_default_str();
  crawl->add_option("--max-url-length", co.traps.max_url_length, "Skip longer URLs (0: no limit)")->capture_default_str();
  crawl->add_option("--max-path-segments", co.traps.max_path_segments, "Skip URLs with more path segments (0: no limit)")->capture_default_str();
  crawl->add_option("--max-segment-repeats", co.traps.max_segment_repeats, "Skip URLs repeating one path segment more often (0: no limit)")->capture_default_str();
  crawl->add_option("--max-query-params", co.traps.max_query_params, "Skip URLs with more query parameters (0: no limit)")->capture_default_str();
  crawl->add_flag("--sitemaps", co.sitemaps, "Also crawl the sitemaps listed in robots.txt");
  crawl->add_flag("--sitemap-probe", co.sitemap_probe, "Also try /sitemap.xml on every host");
  std::string warc_max_size = "1G";
  crawl->add_option("--warc", co.warc, "Also write WARC 1.1 files FILE-00000.warc.gz, ... (requests and responses as received)");
  crawl->add_option("--warc-max-size", warc_max_size, "Start a new WARC file before one exceeds this size (K, M, G suffixes)")->capture_default_str();
  crawl->add_flag("--warc-dedup", co.warc_dedup, "Write a revisit record for a payload already archived under another URL");
  crawl->add_flag("-q,--quiet", cf.quiet, "No progress line and no summary");
  crawl->add_flag("-v,--verbose", cf.verbose, "One line per finished URL");
  crawl->add_flag("--stats-lines", cf.stats_lines, "Every second a 'progress:' line on stderr: pages, known URLs, queued, RSS");
  // HTTP session (docs/cli.md "HTTP session").
  bool no_cookies = false;
  double dns_ttl_s = 60;
  crawl->add_option("--contact", co.contact, "Contact URL put in the default User-Agent: crawld/<version> (+URL)");
  crawl->add_flag("--no-cookies", no_cookies, "Neither send nor store cookies");
  crawl->add_flag("--unsafe-cookies", co.unsafe_cookies, "Accept cookies from IP-address hosts");
  crawl->add_flag("--blocking-fetch", co.blocking_fetch,
                  "Fetch plain http in blocking fetcher threads too (no epoll client)");
  crawl->add_option("--cookie", co.seed_cookies, "Seed cookie 'URL NAME=VALUE[; attributes]', as if URL had set it (repeatable)");
  crawl->add_option("--proxy", co.proxy, "HTTP proxy http://[user:pass@]host:port (https via CONNECT)");
  crawl->add_option("--resolve", co.resolve, "Connect to ADDR for HOST:PORT, like curl: 'HOST:PORT:ADDR' (repeatable)");
  crawl->add_option("--dns-ttl", dns_ttl_s, "Seconds a resolved host name is reused")->capture_default_str();
  crawl->add_option("--ca-file", co.ca_file, "Trust the CAs in this PEM file instead of the system store");
  crawl->add_flag("--insecure", co.insecure, "Do not verify TLS certificates or host names (dangerous)");
  double idle_timeout_s = 30;
  crawl->add_option("--max-ratio", co.max_ratio, "Cut a body decoding to more than N times its wire bytes (past 1 MiB; 0: no cap)")->capture_default_str();
  crawl->add_option("--idle-timeout", idle_timeout_s, "Close keep-alive connections idle this many seconds")->capture_default_str();
  // Seed requests with a body (docs/cli.md "Seed requests"): applied to the command line's seed URLs.
  conf::request_flags rf;
  crawl->add_option("-X,--request", rf.method, "Method for the seed URLs: GET, POST, PUT, PATCH, DELETE (default POST with a body)");
  crawl->add_option("-d,--data", rf.data, "Form body for the seed URLs, sent as given (application/x-www-form-urlencoded; repeatable, joined by '&')");
  crawl->add_option("--data-urlencode", rf.data_urlencode, "Form field '[NAME=]VALUE' with VALUE percent-encoded for the seed URLs (repeatable)");
  std::string json_body;
  auto* json_opt = crawl->add_option("--json", json_body, "JSON body for the seed URLs, sent as given (application/json)");
  crawl->add_option("--content-type", rf.content_type, "Content-Type of the seed URLs' body instead of the default");

  // run
  std::string job_path;
  bool job_check = false;
  crawl_flags jf;
  auto* run = cli.add_subcommand("run", "Run a crawl job from a TOML job file (see docs/job-file.md)");
  run->add_option("job", job_path, "Job file")->required();
  run->add_flag("--check", job_check, "Only validate the job file");
  run->add_flag("-q,--quiet", jf.quiet, "No progress line and no summary");
  run->add_flag("-v,--verbose", jf.verbose, "One line per finished URL");
  run->add_flag("--stats-lines", jf.stats_lines, "Every second a 'progress:' line on stderr: pages, known URLs, queued, RSS");
  // Flags that override the job file's values (only when given).
  conf::crawl_options ro;
  long long run_delay_ms = 0;
  run->add_option("--depth", ro.max_depth, "Override [crawl] max_depth");
  run->add_option("--max-pages", ro.max_pages, "Override [crawl] max_pages")->check(CLI::NonNegativeNumber);
  run->add_option("--concurrency", ro.concurrency, "Override [crawl] concurrency");
  run->add_option("--per-host", ro.per_host, "Override [crawl] per_host");
  run->add_option("--delay", run_delay_ms, "Override [crawl] delay_ms");
  run->add_option("--db", ro.db, "Override [crawl] db");
  run->add_option("--user-agent", ro.user_agent, "Override [crawl] user_agent");
  std::vector<std::string> run_sets;
  run->add_option("--set", run_sets, "Override any job-file key: TABLE.KEY=VALUE, VALUE in TOML (bare text is a string); repeatable");

  // serve
  std::string serve_config;
  auto* serve = cli.add_subcommand("serve", "Run the crawl daemon: HTTP control API, metrics, status page (docs/api.md)");
  serve->add_option("--config", serve_config, "Daemon config file (TOML; see deploy/crawld.toml)")->required();
  serve_cluster_flags serve_cluster;
  serve->add_option("--cluster-listen", serve_cluster.listen,
                    "Coordinate a cluster: accept members on ADDR:PORT (docs/cluster.md)");
  serve->add_option("--cluster-secret-file", serve_cluster.secret_file,
                    "File whose first line is the shared cluster secret (else cluster_secret_file in the config)");
  serve->add_option("--cluster-name", serve_cluster.name, "This coordinator's member name")
    ->capture_default_str();
  serve->add_option("--cluster-cert", serve_cluster.cert, "TLS between members: this member's certificate (PEM)");
  serve->add_option("--cluster-key", serve_cluster.key, "TLS between members: its private key (PEM)");
  serve->add_option("--cluster-ca", serve_cluster.ca, "TLS between members: the CA that signed every member (PEM)");

  // node
  std::string node_join, node_name, node_config;
  auto* node = cli.add_subcommand("node", "Join a cluster coordinator and crawl its jobs (docs/cluster.md)");
  node->add_option("--join", node_join, "The coordinator's ADDR:PORT (its --cluster-listen)")->required();
  node->add_option("--name", node_name, "This member's name, unique in the cluster")->required();
  node->add_option("--config", node_config, "Node config (TOML: state_dir, cluster_secret_file, max_connections, log_file)")
    ->required();
  std::string node_cert, node_key, node_ca;
  node->add_option("--cluster-cert", node_cert, "TLS to the cluster: this node's certificate (PEM)");
  node->add_option("--cluster-key", node_key, "TLS to the cluster: its private key (PEM)");
  node->add_option("--cluster-ca", node_ca, "TLS to the cluster: the CA that signed every member (PEM)");

  // resume
  std::string resume_db;
  auto* resume = cli.add_subcommand("resume", "Continue the interrupted crawl a store holds (re-runs its command)");
  resume->add_option("--db", resume_db, "Crawl store directory")->required();

  // robots
  std::string robots_source, robots_agent;
  std::vector<std::string> robots_urls;
  auto* robots = cli.add_subcommand("robots", "Check URLs against a robots.txt file or URL, showing the rule that decided");
  robots->add_option("source", robots_source, "robots.txt file, or its http(s) URL")->required();
  robots->add_option("agent", robots_agent, "User agent (its product token is matched)")->required();
  robots->add_option("urls", robots_urls, "URLs to check")->required();

  // export
  std::string export_db, export_format, export_out;
  bool export_convert = false;
  auto* exp = cli.add_subcommand("export", "Export a crawl store: a browsable mirror (files) or JSON Lines");
  exp->add_option("--db", export_db, "Crawl store directory")->required();
  exp->add_option("--format", export_format, "files, jsonl or warc")->required();
  exp->add_option("--out", export_out, "Output directory (files) or file (jsonl; default stdout)");
  exp->add_flag("--convert-links", export_convert, "files: rewrite links between mirrored pages to relative file links");
  std::string export_warc_max = "1G";
  exp->add_option("--warc-max-size", export_warc_max, "warc: start a new file before one exceeds this size")->capture_default_str();

  // warc check
  std::vector<std::string> warc_files;
  auto* warc_cmd = cli.add_subcommand("warc", "Work with WARC files");
  warc_cmd->require_subcommand(1);
  auto* warc_check = warc_cmd->add_subcommand("check", "Read every record and verify its digests (exit 1 at the first problem)");
  warc_check->add_option("files", warc_files, "WARC files (.warc.gz or .warc)")->required();

  // stats
  std::string stats_db;
  int stats_top = 10;
  auto* stats = cli.add_subcommand("stats", "Summarise a crawl store (works while a crawl runs)");
  stats->add_option("--db", stats_db, "Crawl store directory")->required();
  stats->add_option("--top", stats_top, "Hosts to list")->capture_default_str();

  // url
  std::string url_base;
  std::vector<std::string> url_hrefs;
  auto* url = cli.add_subcommand("url", "Show how links resolve against a base URL and normalize");
  url->add_option("base", url_base, "Base URL")->required();
  url->add_option("hrefs", url_hrefs, "Links as written in a page");

  // links
  std::string links_file, links_base;
  auto* links = cli.add_subcommand("links", "List the links crawld would follow in an HTML file, and why others not");
  links->add_option("file", links_file, "HTML file")->required();
  links->add_option("--base", links_base, "URL the file was fetched from")->required();

  // testsite
  testsite::site_options so;
  int latency_ms = 0;
  bool print_expected = false;
  std::string write_dir;
  auto* ts = cli.add_subcommand("testsite", "Serve a deterministic synthetic web on loopback addresses");
  ts->add_option("--hosts", so.hosts, "Hosts (one loopback address each)")->capture_default_str()->check(CLI::Range(1, 200));
  ts->add_option("--pages", so.pages, "HTML pages per host")->capture_default_str()->check(CLI::Range(1, 1000000));
  ts->add_option("--address", so.first_address, "First host's address; the others follow")->capture_default_str();
  ts->add_option("--port", so.port, "Port on every host (0: any free port)")->capture_default_str();
  ts->add_option("--seed", so.seed, "Seed of the generated web")->capture_default_str();
  ts->add_option("--latency-ms", latency_ms, "Delay added to every response")->capture_default_str();
  ts->add_flag("--politeness-hosts", so.politeness_hosts,
               "Add hosts with crawl-delay, 429/503, flaky pages, broken robots.txt, a calendar trap, a dead host");
  ts->add_flag("--silent-host", so.silent_host, "With --politeness-hosts: add a host that never answers");
  ts->add_flag("--expected", print_expected, "Print the URLs a full crawl (robots.txt obeyed) from every host's / fetches, and exit");
  ts->add_option("--write", write_dir, "Write the site as static files and an nginx.conf to this directory, and exit");
  std::string hostile_addr;
  ts->add_option("--hostile", hostile_addr,
                 "Also serve the hostile endpoints (docs/hostile.md) on ADDR; the next two addresses are "
                 "a host that never answers and one that refuses connections");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = cli.exit(e);
    return rc == 0 ? 0 : 2;
  }

  // Saved in the store so `crawld resume` can re-run this crawl (the job file's path made absolute).
  std::vector<std::string> command_line(argv, argv + argc);
  std::string command_cwd;
  {
    std::error_code ec;
    command_cwd = std::filesystem::current_path(ec).string();
  }
  if (*crawl) {
    co.command_line = command_line;
    co.command_cwd = command_cwd;
    if (!urls_file.empty()) {
      conf::url_list list;
      if (urls_file == "-") {
        list = conf::read_url_list(std::cin);
      } else {
        std::ifstream in(urls_file);
        if (!in) {
          print_error("cannot read --urls file '" + urls_file + "'");
          return 2;
        }
        list = conf::read_url_list(in);
      }
      for (const auto& e : list.errors)
        print_error("--urls " + (urls_file == "-" ? std::string("stdin") : urls_file) + " " + e + " (skipped)");
      co.seeds.insert(co.seeds.end(), list.urls.begin(), list.urls.end());
      cf.fail_exit = true;
    }
    if (co.seeds.empty()) {
      print_error("no URL to crawl: give seed URLs or --urls FILE");
      return 2;
    }
    if (json_opt->count() > 0)
      rf.json = json_body;
    if (auto rq = conf::request_from_flags(rf); !rq) {
      print_error(rq.message());
      return 2;
    } else if (*rq) {  // every seed URL (command line and --urls) is sent with this request
      for (auto& url : co.seeds)
        co.seed_requests.push_back(conf::seed_request{std::move(url), **rq});
      co.seeds.clear();
    }
    co.delay = std::chrono::milliseconds(delay_ms);
    co.connect_timeout = seconds_to_ms(connect_s);
    co.read_timeout = seconds_to_ms(read_s);
    co.total_timeout = seconds_to_ms(total_s);
    co.max_body_bytes = static_cast<std::size_t>(max_body_mib * 1048576);
    if (auto size = conf::parse_size(warc_max_size); size) {
      co.warc_max_size = *size;
    } else {
      print_error("--warc-max-size: " + size.message());
      return 2;
    }
    for (const auto& h : headers) {
      auto colon = h.find(':');
      if (colon == std::string::npos || colon == 0) {
        print_error("--header must look like 'Name: value', got '" + h + "'");
        return 2;
      }
      auto value = h.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      co.headers.emplace_back(h.substr(0, colon), value);
    }
    co.cookies = !no_cookies;
    co.dns_ttl = seconds_to_ms(dns_ttl_s);
    co.idle_timeout = seconds_to_ms(idle_timeout_s);
    if (co.user_agent.empty())
      co.user_agent = conf::default_user_agent(CRAWLD_VERSION, co.contact);
    if (co.insecure)
      print_error("warning: --insecure: TLS certificates and host names are NOT verified");
    co.obey_robots = !ignore_robots;
    if (ignore_robots)
      print_error("warning: --ignore-robots: robots.txt is neither fetched nor obeyed");
    co.max_crawl_delay = seconds_to_ms(max_crawl_delay_s);
    co.robots_ttl = seconds_to_ms(robots_ttl_h * 3600);
    co.backoff_base = std::chrono::milliseconds(backoff_ms);
    co.backoff_max = std::max(co.backoff_max, co.backoff_base);
    for (const auto& text : domain_rules) {
      conf::domain_rule r;
      if (!parse_domain_rule(text, r)) {
        print_error("--domain-rule must look like 'GLOB:delay=MS,per-host=N', got '" + text + "'");
        return 2;
      }
      co.domain_rules.push_back(std::move(r));
    }
    return cmd_crawl(std::move(co), cf);
  }
  if (*run) {
    auto job = conf::load_job(job_path, run_sets);
    for (const auto& e : job.errors)
      std::cerr << "crawld: " << conf::to_string(e) << '\n';
    if (!job.ok())
      return 2;
    if (run->count("--depth")) job.options.max_depth = ro.max_depth;
    if (run->count("--max-pages")) job.options.max_pages = ro.max_pages;
    if (run->count("--concurrency")) job.options.concurrency = ro.concurrency;
    if (run->count("--per-host")) job.options.per_host = ro.per_host;
    if (run->count("--delay")) job.options.delay = std::chrono::milliseconds(run_delay_ms);
    if (run->count("--db")) job.options.db = ro.db;
    if (run->count("--user-agent")) job.options.user_agent = ro.user_agent;
    if (job.options.user_agent.empty())
      job.options.user_agent = conf::default_user_agent(CRAWLD_VERSION, job.options.contact);
    if (auto v = conf::validate(job.options); !v) {
      print_error(job_path + ": " + v.message());
      return 2;
    }
    if (job_check) {
      std::cout << job_path << ": ok (" << (job.name.empty() ? "unnamed job" : job.name) << ", "
                << job.options.seeds.size() + job.options.seed_requests.size() << " seeds)\n";
      return 0;
    }
    job.options.command_line = command_line;
    job.options.command_cwd = command_cwd;
    if (job.options.insecure)
      print_error("warning: insecure = true: TLS certificates and host names are NOT verified");
    if (!job.options.obey_robots)
      print_error("warning: obey_robots = false: robots.txt is neither fetched nor obeyed");
    return cmd_crawl(std::move(job.options), jf);
  }
  if (*serve)
    return serve_cluster.listen.empty() ? cmd_serve(serve_config) : cmd_serve(serve_config, serve_cluster);
  if (*node)
    return cmd_node(node_join, node_name, node_config, node_cert, node_key, node_ca);
  if (*stats)
    return cmd_stats(stats_db, stats_top);
  if (*resume)
    return cmd_resume(resume_db);
  if (*robots)
    return cmd_robots(robots_source, robots_agent, robots_urls);
  if (*exp) {
    auto size = conf::parse_size(export_warc_max);
    if (!size) {
      print_error("--warc-max-size: " + size.message());
      return 2;
    }
    return cmd_export(export_db, export_format, export_out, export_convert, *size);
  }
  if (*warc_check)
    return cmd_warc_check(warc_files);
  if (*url)
    return cmd_url(url_base, url_hrefs);
  if (*links)
    return cmd_links(links_file, links_base);
  if (*ts)
    return cmd_testsite(so, latency_ms, print_expected, write_dir, hostile_addr);
  return 2;
}
