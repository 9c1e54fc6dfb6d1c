/**
 * Every Sluice table: InnoDB (transactions, row locks) and a binary collation, so keys, topics and ids compare
 * byte for byte (`A-1` and `a-1` are different keys; a case-insensitive default collation would merge them).
 */
export const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';
