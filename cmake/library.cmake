# meshmq as a library (docs/embedding.md): the target meshmq::meshmq inside this build, and
# `cmake --install` of headers, one combined static archive and a CMake package for
# find_package(meshmq) in other projects. Included from src/CMakeLists.txt after meshmq_app.

add_library(meshmq_library INTERFACE)
target_link_libraries(meshmq_library INTERFACE meshmq_app meshmq_public_headers)
add_library(meshmq::meshmq ALIAS meshmq_library)

# One archive holds every internal module, so the package exports a single imported target and
# none of meshmq's internal headers or compile options.
set(_meshmq_parts meshmq_app meshmq_config meshmq_broker meshmq_codec meshmq_auth meshmq_storage
  meshmq_transport meshmq_discovery meshmq_cluster meshmq_bridge meshmq_http meshmq_proto)
set(_mri "CREATE ${PROJECT_BINARY_DIR}/libmeshmq.a\n")
set(_part_files "")
foreach(_part IN LISTS _meshmq_parts)
  string(APPEND _mri "ADDLIB $<TARGET_FILE:${_part}>\n")
  list(APPEND _part_files $<TARGET_FILE:${_part}>)
endforeach()
string(APPEND _mri "SAVE\nEND\n")
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/libmeshmq.mri CONTENT "${_mri}")
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/libmeshmq.a
  COMMAND ${CMAKE_COMMAND} -E rm -f ${PROJECT_BINARY_DIR}/libmeshmq.a
  COMMAND ${CMAKE_AR} -M < ${PROJECT_BINARY_DIR}/libmeshmq.mri
  DEPENDS ${_meshmq_parts} ${_part_files} ${PROJECT_BINARY_DIR}/libmeshmq.mri
  COMMENT "Combining meshmq's modules into libmeshmq.a")
add_custom_target(meshmq_archive ALL DEPENDS ${PROJECT_BINARY_DIR}/libmeshmq.a)

include(CMakePackageConfigHelpers)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/meshmqConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/meshmq DESTINATION include)
install(FILES ${PROJECT_BINARY_DIR}/libmeshmq.a DESTINATION lib)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/meshmqConfig.cmake
  ${PROJECT_BINARY_DIR}/meshmqConfigVersion.cmake DESTINATION lib/cmake/meshmq)
