# Turns a file into a C source defining `const char NAME[]` (NUL-terminated)
# and `const unsigned long NAME_len`. Run as: cmake -DIN=… -DOUT=… -DNAME=… -P
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n" body "${body}")
file(WRITE "${OUT}.tmp"
  "/* Generated from ${IN} by cmake/embed.cmake; do not edit. */\n"
  "const char ${NAME}[] = {\n${body}0x00};\n"
  "const unsigned long ${NAME}_len = ${len}ul;\n")
file(RENAME "${OUT}.tmp" "${OUT}")
