// `crawld resume --db DIR`: continues the crawl a store holds by re-running the command that
// started it (saved in meta `command`, NUL-separated argv, and `command_cwd`), which continues
// from the store's frontier and seen-set. A finished crawl has nothing to resume.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <vector>

#include "app/commands.hpp"
#include "storage/store.hpp"

namespace crawld::app {

int cmd_resume(const std::string& db) {
  std::string cmd, cwd, state;
  {
    auto st = storage::store::open(db, storage::open_options{false, true});
    if (!st) {
      print_error(st.message());
      return 1;
    }
    cmd = (*st)->get_meta("command").value_or("");
    cwd = (*st)->get_meta("command_cwd").value_or("");
    state = (*st)->get_meta("crawl_state").value_or("");
  }
  if (cmd.empty()) {
    print_error("store '" + db + "' holds no resumable crawl (no command saved; was it started by crawld crawl or run?)");
    return 2;
  }
  if (state == "finished") {
    std::cout << "crawl in '" << db << "' already finished; nothing to resume\n";
    return 0;
  }
  std::vector<std::string> args;
  for (std::size_t pos = 0; pos < cmd.size();) {
    auto end = cmd.find('\0', pos);
    if (end == std::string::npos)
      end = cmd.size();
    args.push_back(cmd.substr(pos, end - pos));
    pos = end + 1;
  }
  if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
    print_error("cannot resume: cannot enter the crawl's working directory '" + cwd + "': " + std::strerror(errno));
    return 1;
  }
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  print_error(std::string("cannot resume: exec failed: ") + std::strerror(errno));
  return 1;
}

}  // namespace crawld::app
