#include <cerrno>
#include <cstring>

#include "notify/channels.h"
#include "notify/format.h"

namespace aquasense::notify {
namespace {

class LogChannel final : public Channel {
 public:
  LogChannel(std::string path, std::FILE* out) : path_(std::move(path)), out_(out) {}

  Status Send(const storage::Alert& alert) override {
    if (path_.empty()) {
      std::string line =
          "aquasense alert: " + AlertSummary(alert) + " [" + IdempotencyKey(alert) + "]\n";
      std::fputs(line.c_str(), out_);
      std::fflush(out_);
      return Status::Ok();
    }
    std::FILE* f = std::fopen(path_.c_str(), "a");
    if (f == nullptr) return Unavailable("cannot open " + path_ + ": " + std::strerror(errno));
    std::string line = DumpJson(WebhookDocument(alert)) + "\n";
    bool ok = std::fwrite(line.data(), 1, line.size(), f) == line.size();
    ok = std::fclose(f) == 0 && ok;
    if (!ok) return Unavailable("cannot write " + path_);
    return Status::Ok();
  }

 private:
  std::string path_;
  std::FILE* out_;
};

}  // namespace

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::unique_ptr<Channel> NewLogChannel(const ChannelConfig& config, std::FILE* out) {
  return std::make_unique<LogChannel>(config.path, out);
}

}  // namespace aquasense::notify
