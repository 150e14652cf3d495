# Read by cpack before it packages (CPACK_PROJECT_CONFIG_FILE): without
# dpkg-shlibdeps, CPack would build a .deb with no Depends at all.
if(CPACK_GENERATOR STREQUAL "DEB")
  find_program(AUDITREE_DPKG_SHLIBDEPS dpkg-shlibdeps)
  if(NOT AUDITREE_DPKG_SHLIBDEPS)
    message(FATAL_ERROR "cpack -G DEB needs dpkg-shlibdeps for Depends: "
      "install dpkg-dev (scripts/setup.sh)")
  endif()
endif()
