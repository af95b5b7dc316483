# find_package(meshmq): the imported target meshmq::meshmq (docs/embedding.md).
# libmeshmq.a holds meshmq itself; its dependencies are the Debian 12 packages meshmq builds
# with (libboost-dev, libabsl-dev, libspdlog-dev, libssl-dev, libgrpc++-dev, libprotobuf-dev,
# libc-ares-dev, librocksdb-dev), found here as the meshmq build found them.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(absl CONFIG)
find_dependency(spdlog CONFIG)
find_dependency(OpenSSL)
find_dependency(Protobuf)
find_dependency(gRPC CONFIG)
find_dependency(PkgConfig)
pkg_check_modules(MESHMQ_CARES REQUIRED IMPORTED_TARGET libcares)
find_library(MESHMQ_ROCKSDB_LIBRARY rocksdb REQUIRED)

get_filename_component(_meshmq_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET meshmq::meshmq)
  add_library(meshmq::meshmq STATIC IMPORTED)
  set_target_properties(meshmq::meshmq PROPERTIES
    IMPORTED_LOCATION "${_meshmq_prefix}/lib/libmeshmq.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_meshmq_prefix}/include"
    INTERFACE_COMPILE_FEATURES cxx_std_20
    INTERFACE_LINK_LIBRARIES "gRPC::grpc++;protobuf::libprotobuf;PkgConfig::MESHMQ_CARES;${MESHMQ_ROCKSDB_LIBRARY};spdlog::spdlog;absl::status;absl::statusor;absl::strings;absl::synchronization;absl::hash;absl::flat_hash_map;OpenSSL::SSL;OpenSSL::Crypto;Threads::Threads")
endif()
unset(_meshmq_prefix)
