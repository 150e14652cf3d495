#include "actors/query_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace auditree {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

query_result query_agent(const std::string& socket_path,
                         const std::string& target, bool post) {
  query_result result;
  asio::io_context io;
  asio::local::stream_protocol::socket socket{io};
  beast::error_code ec;
  socket.connect({socket_path}, ec);
  if (ec) {
    result.error = "cannot reach the agent at " + socket_path + ": "
                   + ec.message()
                   + (ec == boost::system::errc::no_such_file_or_directory
                          || ec == asio::error::connection_refused
                        ? " (is `auditree run` running?)"
                        : "");
    return result;
  }
  http::request<http::empty_body> req{post ? http::verb::post
                                           : http::verb::get,
                                      target, 11};
  req.set(http::field::host, "auditree");
  req.keep_alive(false);
  http::write(socket, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec)
    http::read(socket, buffer, res, ec);
  if (ec && ec != http::error::end_of_stream) {
    result.error = "talking to the agent failed: " + ec.message();
    return result;
  }
  result.status = static_cast<int>(res.result_int());
  result.body = std::move(res.body());
  return result;
}

} // namespace auditree
