// The one owner of object-key naming (cf. leveldb's db/filename.h): every key
// the program writes or reads in an ObjectStore is built, and every key it
// reads back from a listing is parsed, by a function here.
//
//   landing/<sensor>/<sha256>.csv          a raw input file, named by its hash
//   landing/<sensor>/incoming.csv          a landing copy whose hash is not known yet
//   filtered/<sensor>/<name>.valid.csv     valid rows of one file (<name>: its
//   filtered/<sensor>/<name>.invalid.csv   hash, or "pending" until it is known)
//   analysis/monthly/<sensor>.csv          a sensor's monthly metrics
//   analysis/monthly.intent                the monthly files' intent record
//
//   std::string k = keys::Landing("s1", hash);        // "landing/s1/<hash>.csv"
//   auto parsed = keys::ParseLanding(info.key);       // {sensor, hash} or nullopt
//
// Pure functions, thread-safe. Builders do not validate their arguments
// (callers pass checked sensor ids and hashes); parsers accept only what the
// matching builder produces from a valid sensor id and a lowercase SHA-256.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aquasense::storage::keys {

inline constexpr std::string_view kLandingPrefix = "landing/";
inline constexpr std::string_view kFilteredPrefix = "filtered/";
inline constexpr std::string_view kMonthlyPrefix = "analysis/monthly/";
inline constexpr std::string_view kMonthlyIntent = "analysis/monthly.intent";
// The <name> of a filtered file whose input's hash is not known yet.
inline constexpr std::string_view kPendingName = "pending";

// landing/<sensor>/<sha256>.csv
std::string Landing(std::string_view sensor, std::string_view sha256);
// landing/<sensor>/incoming.csv
std::string LandingIncoming(std::string_view sensor);

struct LandingName {
  std::string sensor;
  std::string sha256;
};
// The parts of a landing key Landing() built; nullopt for anything else
// (incoming.csv, another prefix, a bad sensor id, a hash that is not 64
// lowercase hex digits).
std::optional<LandingName> ParseLanding(std::string_view key);

// filtered/<sensor>/<name>.valid.csv and .invalid.csv (<name>: a SHA-256 or
// kPendingName).
std::string FilteredValid(std::string_view sensor, std::string_view name);
std::string FilteredInvalid(std::string_view sensor, std::string_view name);

// analysis/monthly/<sensor>.csv
std::string Monthly(std::string_view sensor);
// What stands between the prefix and ".csv" of any key under kMonthlyPrefix
// (the sensor of a key Monthly() built; for a stray file dropped there by
// hand, whatever its name is, so that a full rebuild can remove it);
// nullopt for a key outside analysis/monthly/ or not ending in ".csv".
std::optional<std::string> ParseMonthly(std::string_view key);

// True for 64 lowercase hex digits (the form every hash in a key takes).
bool IsSha256Hex(std::string_view s);

}  // namespace aquasense::storage::keys
