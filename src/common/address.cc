#include "common/address.h"

namespace rocketrpc {

std::vector<std::string> splitAddressList(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(';', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view part = list.substr(start, end - start);
    const size_t first = part.find_first_not_of(" \t");
    if (first != std::string_view::npos) {
      part = part.substr(first, part.find_last_not_of(" \t") - first + 1);
      out.emplace_back(part);
    }
    start = end + 1;
  }
  return out;
}

}  // namespace rocketrpc
