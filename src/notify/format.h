// Rendering of an outbox alert for people and machines: the webhook JSON
// document, the subject line and plain-text body used by email and SNS, the
// log line, and the idempotency key shared by every channel.
//
//   std::string key = IdempotencyKey(alert);
//   std::string body = WebhookDocument(alert).dump();
//   std::string subject = AlertSubject(alert);
//
// Pure functions of the stored alert (so a retry sends the same bytes);
// thread-safe; never fail: an unreadable payload is passed on as text.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "storage/meta_store.h"

namespace aquasense::notify {

// Stable for the alert's unique key (file, default sensor, kind, sensor):
// "aquasense-" + 32 hex digits. The same across channels, retries and restarts.
std::string IdempotencyKey(const storage::Alert& alert);

// {"id","idempotency_key","kind","sensor","default_sensor","file",
//  "file_sha256","summary","counts":{..},"sensors":{"count","first"},
//  "examples":[..],"time":"ISO 8601"}
nlohmann::json WebhookDocument(const storage::Alert& alert);

// "deviation: sensor s1, 3 readings with sd > 0.5 in readings.csv";
// "deviation: 500 sensors (s000, s001, s002, ...), 500 readings ..." for several.
std::string AlertSummary(const storage::Alert& alert);
// "[AquaSense] " + AlertSummary, one line, at most 200 bytes.
std::string AlertSubject(const storage::Alert& alert);
// Several lines: what, where, when, the counts and the first examples.
std::string AlertText(const storage::Alert& alert);

// "2024-05-01T12:00:00Z" (".123" before Z when the milliseconds are not 0).
std::string Iso8601(int64_t epoch_ms);
// "Wed, 01 May 2024 12:00:00 +0000"
std::string Rfc5322Date(int64_t epoch_ms);

// The counts (an object) and examples (an array) of the alert's payload.
nlohmann::json PayloadCounts(const storage::Alert& alert);
nlohmann::json PayloadExamples(const storage::Alert& alert);
// The sensors an alert is about: {"count": N, "first": [names]} (the first
// few; an alert of an older version: its one sensor).
nlohmann::json PayloadSensors(const storage::Alert& alert);
// The names PayloadSensors lists; *complete = they are all of them.
std::vector<std::string> PayloadSensorNames(const storage::Alert& alert, bool* complete);

}  // namespace aquasense::notify
