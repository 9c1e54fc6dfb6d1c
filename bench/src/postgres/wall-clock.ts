/**
 * Milliseconds since the epoch at sub-millisecond resolution: comparable between the processes of one machine
 * (a producer child's commit time against the parent's handler time).
 */
export const wallClock = (): number => performance.timeOrigin + performance.now();
