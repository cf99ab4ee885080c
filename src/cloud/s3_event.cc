#include "cloud/s3_event.h"

#include <nlohmann/json.hpp>

#include "common/aws/credentials.h"
#include "storage/s3_client.h"

namespace aquasense::cloud {

using nlohmann::json;

Result<S3Event> ParseS3Event(std::string_view body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgument("the message is not JSON: not an S3 event");
  S3Event ev;
  if (j.contains("Event") && j["Event"] == "s3:TestEvent") {
    ev.test_event = true;
    return ev;
  }
  if (!j.contains("Records") || !j["Records"].is_array())
    return InvalidArgument("the message has no Records: not an S3 event");
  for (const json& r : j["Records"]) {
    if (!r.is_object() || r.value("eventSource", "") != "aws:s3") continue;
    const std::string name = r.value("eventName", "");
    if (!name.starts_with("ObjectCreated:")) continue;
    if (!r.contains("s3") || !r["s3"].is_object()) continue;
    const json& s3 = r["s3"];
    if (!s3.contains("object") || !s3["object"].is_object() || !s3["object"].contains("key"))
      continue;
    S3EventObject o;
    o.event_name = name;
    if (s3.contains("bucket") && s3["bucket"].is_object())
      o.bucket = s3["bucket"].value("name", "");
    o.key = storage::UrlDecode(s3["object"].value("key", ""));
    if (s3["object"].contains("size") && s3["object"]["size"].is_number_unsigned())
      o.size = s3["object"]["size"].get<uint64_t>();
    o.event_ms = aws::ParseIso8601Ms(r.value("eventTime", "")).value_or(0);
    ev.objects.push_back(std::move(o));
  }
  return ev;
}

std::optional<InboxFile> ParseInboxKey(std::string_view key, std::string_view prefix) {
  if (!prefix.empty()) {
    if (!key.starts_with(prefix) || key.substr(prefix.size()).substr(0, 1) != "/")
      return std::nullopt;
    key.remove_prefix(prefix.size() + 1);
  }
  constexpr std::string_view kInbox = "inbox/";
  if (!key.starts_with(kInbox)) return std::nullopt;
  const std::string_view rest = key.substr(kInbox.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const std::string_view name = rest.substr(slash + 1);
  if (name.size() <= 4 || name.find('/') != std::string_view::npos) return std::nullopt;
  std::string ext(name.substr(name.size() - 4));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext != ".csv") return std::nullopt;
  return InboxFile{std::string(key), std::string(rest.substr(0, slash)), std::string(name)};
}

}  // namespace aquasense::cloud
