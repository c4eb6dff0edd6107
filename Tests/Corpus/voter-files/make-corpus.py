#!/usr/bin/env python3
"""Writes the nasty voter files the parser tests read (VoterFileParserCorpusTests). Run it here to rebuild them."""
import os

HEADER = '"REG_NUMBER,N,10,0","LAST_NAME,C,30","FIRST_NAME,C,30","PARISH,C,20"'


def write(name, data):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def main():
    write("ragged.csv", HEADER + "\n1,Ng,Bo,ORLEANS\n2,Li\n3,Wu,Al,CADDO,extra,more\n4,\n5,Ray,Di,ACADIA\n,,,\n6,Ma,Jo,\n")
    write("unterminated-quote.csv", HEADER + '\r\n1,Ng,Bo,ORLEANS\r\n2,"Li, Wu,Al,CADDO\r\n3,Ray,Di,ACADIA\r\n')
    nul = bytearray((HEADER + "\n1,Ng,Bo,ORLEANS\n").encode())
    nul[40] = 0
    write("nul-bytes.csv", bytes(nul))
    big = "A" * (1 << 20)
    write("huge-field.csv", HEADER + '\n1,Ng,Bo,ORLEANS\n2,"' + big + '\n",Al,CADDO\n3,Ray,Di,ACADIA\n')
    names = ",".join(["REG_NUMBER", "LAST_NAME"] + ["C%05d" % i for i in range(3, 10001)])
    rows = "".join(str(r) + ",Last" + str(r) + "".join("," + (str(i) if i % 1000 == 0 else "") for i in range(3, 10001)) + "\n"
                   for r in range(1, 4))
    write("ten-thousand-columns.csv", names + "\n" + rows)
    mixed = (HEADER + "\r\n").encode()
    mixed += "1,Müller,José,ORLEANS\r\n".encode("utf-8")
    mixed += "2,Müller,José,ORLEANS\r\n".encode("cp1252")
    mixed += "3,".encode() + "Lefèvre".encode("utf-8") + b"," + "Zoë".encode("cp1252") + b",CADDO\r\n"
    mixed += "4,".encode() + "Ça".encode("utf-8") + "fé".encode("cp1252") + b",\x93Bo\x94,ACADIA\r\n"
    write("mixed-encodings.csv", mixed)
    write("lone-cr.csv", HEADER + '\r1,Ng,Bo,ORLEANS\r2,"Li\rWu",Al,CADDO\r3,Ray,Di,ACADIA')
    write("bom.csv", "\ufeff" + HEADER + "\r\n1,Ng,Bo,ORLEANS\r\n")
    write("html-page.csv", "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
          "<body><h1>502 Bad Gateway</h1>nginx</body></html>\n")
    write("empty.csv", "")
    write("header-only.csv", HEADER + "\r\n")


main()
