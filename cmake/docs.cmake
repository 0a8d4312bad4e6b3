# The API reference: `cmake --build --preset debug --target docs` runs Doxygen over include/rocketrpc/*.h (README.md
# as the main page) into <build>/docs/html. Any Doxygen warning, an undocumented public symbol included, fails
# the target (WARN_AS_ERROR=FAIL_ON_WARNINGS in docs/Doxyfile.in). Not part of ALL; absent without doxygen.
find_program(DOXYGEN_EXECUTABLE NAMES doxygen DOC "Doxygen, for the docs target")
if(DOXYGEN_EXECUTABLE)
  set(ROCKETRPC_DOCS_OUTPUT_DIR ${CMAKE_BINARY_DIR}/docs)
  configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${ROCKETRPC_DOCS_OUTPUT_DIR}/Doxyfile @ONLY)
  add_custom_target(docs
    COMMAND ${DOXYGEN_EXECUTABLE} ${ROCKETRPC_DOCS_OUTPUT_DIR}/Doxyfile
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "API reference: ${ROCKETRPC_DOCS_OUTPUT_DIR}/html/index.html"
    VERBATIM)
else()
  message(STATUS "doxygen not found: no docs target")
endif()
