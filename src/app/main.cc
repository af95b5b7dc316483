// meshmq: the broker executable. All wiring lives in src/app.
#include <cstdio>

int main() {
  std::puts("meshmq " MESHMQ_VERSION);
  return 0;
}
