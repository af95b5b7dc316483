# The web dashboard (dashboard/, docs/dashboard.md): built with npm at build time and embedded in
# meshmq_http as generated C++ (cmake/embed_dashboard.cmake). Without npm, or with
# -DMESHMQ_DASHBOARD=OFF, the node is built with an empty file table and `/` says why.
option(MESHMQ_DASHBOARD "Build the web dashboard with npm and embed it in the binary" ON)
find_program(MESHMQ_NPM npm)

set(_dash_src ${PROJECT_SOURCE_DIR}/dashboard)
set(_dash_out ${PROJECT_BINARY_DIR}/src/http/dashboard_assets.cc)
set(_dash_npm "")
if(NOT MESHMQ_DASHBOARD)
  set(_dash_note "This binary was built with -DMESHMQ_DASHBOARD=OFF.")
elseif(NOT MESHMQ_NPM)
  set(_dash_note "npm was not found when this binary was built, so the dashboard is not included.")
  message(STATUS "meshmq: npm not found; building without the dashboard")
else()
  set(_dash_npm ${MESHMQ_NPM})
  set(_dash_note "")
endif()
file(GLOB_RECURSE _dash_inputs CONFIGURE_DEPENDS ${_dash_src}/src/*)
list(APPEND _dash_inputs ${_dash_src}/index.html ${_dash_src}/package.json
  ${_dash_src}/package-lock.json ${_dash_src}/vite.config.js)
add_custom_command(
  OUTPUT ${_dash_out}
  COMMAND ${CMAKE_COMMAND} "-DNPM=${_dash_npm}" "-DSRC=${_dash_src}"
    "-DDIST=${PROJECT_BINARY_DIR}/dashboard" "-DOUT=${_dash_out}" "-DNOTE=${_dash_note}"
    -P ${PROJECT_SOURCE_DIR}/cmake/embed_dashboard.cmake
  DEPENDS ${_dash_inputs} ${PROJECT_SOURCE_DIR}/cmake/embed_dashboard.cmake
  COMMENT "Building the dashboard with npm and embedding it"
  VERBATIM)
target_sources(meshmq_http PRIVATE ${_dash_out})
