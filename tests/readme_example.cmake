# Compiles and runs the first ```c block of README.md against the built
# library, so the documented example cannot rot.
# -DREADME=… -DWORK=… -DCC=… -DINC=… -DLIB=<path of libopk.so>
# [-DEMU="emulator args"] (cross builds run the example through it)
file(READ "${README}" text)
string(FIND "${text}" "```c\n" start)
if(start LESS 0)
  message(FATAL_ERROR "README has no ```c block")
endif()
math(EXPR start "${start} + 5")
string(SUBSTRING "${text}" ${start} -1 rest)
string(FIND "${rest}" "```" stop)
string(SUBSTRING "${rest}" 0 ${stop} code)
file(MAKE_DIRECTORY "${WORK}")
file(WRITE "${WORK}/example.c" "${code}")
get_filename_component(libdir "${LIB}" DIRECTORY)
execute_process(COMMAND ${CC} -std=c11 -Wall -Wextra -Werror -I${INC} example.c
                        -o example -L${libdir} -lopk -Wl,-rpath,${libdir} -lm
                WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the README example does not compile")
endif()
separate_arguments(emu UNIX_COMMAND "${EMU}")
execute_process(COMMAND ${emu} ./example WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out)
message(STATUS "${out}")
if(rc OR NOT out MATCHES "y\\[0\\] = 0.090031, y\\[5\\] = 0, hash")
  message(FATAL_ERROR "the README example failed or printed something else: ${out}")
endif()
