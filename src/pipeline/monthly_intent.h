// The two small text formats behind analysis/ (see monthly_csv.h): the
// intent record analysis/monthly.intent, and the search for where a
// sensor's monthly file starts to change. Pure functions over bytes read
// back from the object store, which may be torn or damaged: malformed input
// is reported (false / nullopt), never trusted, never a crash. Fuzzed by
// fuzz/intent_fuzz.cc. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aquasense::pipeline::internal {

// The intent record: "<generation>\n<sensor>\n...#<sha256 of the lines
// before>\n". The checksum line lets it be rewritten in place (a torn record
// reads as malformed); records of older versions lack it and are accepted
// as they are (they were replaced atomically).
std::string IntentText(int64_t generation, const std::vector<std::string>& sensors);

// Intent text -> (generation, sensors appended, whether it has a checksum);
// false when malformed or torn.
bool ParseIntent(std::string_view text, int64_t& generation, std::vector<std::string>& sensors,
                 bool& checked);

// Where the rows of `first_month` and later begin in `sensor`'s file `text`,
// found from the end (a batch of new data changes the last rows): the rows
// before are the committed ones, kept as they are. Nothing when the text is
// not the header and rows of `sensor`, each ending with a newline, with a
// year in 0..9999 and a month in 1..12.
std::optional<size_t> RowsFrom(std::string_view text, std::string_view sensor, int32_t first_month);

}  // namespace aquasense::pipeline::internal
