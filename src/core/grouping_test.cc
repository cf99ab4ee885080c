#include "core/grouping.h"

#include <gtest/gtest.h>

namespace aquasense::core {
namespace {

TEST(Grouping, GroupsBySensorMonthInTimeOrderKeepingInputOrderForTies) {
  FileParser p({}, "default");
  ParseOutput out;
  p.Feed(
      "a,2024-02-03,1,0.1\nb,2024-02-01,2,0.1\na,2024-01-31,3,0.1\na,2024-02-01,4,0.1\n"
      "a,2024-02-01,5,0.1\nb,2024-03-01,6,0.1\n",
      out);
  p.Finish(out);
  Grouping g;
  GroupBySensorMonth(out.rows, p.sensors().size(), g);
  ASSERT_EQ(g.keys.size(), 4u);  // a/02, b/02, a/01, b/03 in order of first appearance
  auto temps = [&](size_t i) {
    std::vector<double> t;
    for (const Incoming& in : g.Group(i)) t.push_back(in.reading.temperature);
    return t;
  };
  EXPECT_EQ(p.sensors()[Grouping::SensorOf(g.keys[0])], "a");
  EXPECT_EQ(Grouping::MonthOf(g.keys[0]), MonthIndex(2024, 2));
  EXPECT_EQ(temps(0), (std::vector<double>{4, 5, 1}));  // sorted by date, 4 before 5 (input order)
  EXPECT_EQ(temps(1), std::vector<double>{2});
  EXPECT_EQ(temps(2), std::vector<double>{3});
  EXPECT_EQ(temps(3), std::vector<double>{6});
  EXPECT_EQ(g.Group(0)[0].order, 3u);  // row index in the chunk
  // Reused for a second chunk: nothing left over.
  GroupBySensorMonth(std::span<const ParsedRow>(out.rows.data(), 1), p.sensors().size(), g);
  EXPECT_EQ(g.keys.size(), 1u);
  EXPECT_EQ(g.incoming.size(), 1u);
}

}  // namespace
}  // namespace aquasense::core
