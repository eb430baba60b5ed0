/*
 * The Kafka Streams peer of bench/run: the three exact rules of DESIGN.md
 * section 6 (repeat_contact, long_wait, abandonment; 24 h windows and
 * cooldowns) over the InteractionEvent topic cxstream reads, with alerts to a
 * topic as key = customer_id, value = "rule|trigger_event_id|event_time".
 *
 * Written the way a Kafka Streams user would: Processor API, one persistent
 * key-value store per customer (RocksDB with its changelog, the defaults),
 * Avro decoded with org.apache.avro's GenericDatumReader after the 5-byte
 * Confluent header (magic 0, big-endian schema id), no schema registry.
 *
 * Usage: java -jar peer.jar BOOTSTRAP INPUT_TOPIC OUTPUT_TOPIC APPLICATION_ID SCHEMA_FILE [STATE_DIR]
 */
package cxbench;

import java.io.File;
import java.nio.ByteBuffer;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

public final class PeerRules {
  static final long DAY_MS = 24L * 3600 * 1000;
  static final long WINDOW_MS = DAY_MS, COOLDOWN_MS = DAY_MS;
  static final String STORE = "contacts";
  static final String[] RULES = {"repeat_contact", "long_wait", "abandonment"};

  /*
   * A customer's state: the quiet-until time of each rule, then the CONTACT
   * events of the last 24 h, oldest first, as (time, wait_ms, flags).
   *   long quiet[3] | int count | count x (long time, long wait, byte flags)
   */
  static final int FLAG_ASSISTED = 1, FLAG_ABANDONED = 2;
  static final int ENTRY_BYTES = 17, HEADER_BYTES = 3 * 8 + 4;

  /* Assisted channels: PHONE, CHAT, EMAIL, SMS, MESSAGING, SOCIAL, STORE, FIELD. */
  static boolean assisted(String channel) {
    switch (channel) {
      case "PHONE": case "CHAT": case "EMAIL": case "SMS": case "MESSAGING":
      case "SOCIAL": case "STORE": case "FIELD":
        return true;
      default:
        return false;
    }
  }

  static final class Rules implements Processor<String, byte[], String, String> {
    private final Schema schema;
    private GenericDatumReader<GenericRecord> reader;
    private BinaryDecoder decoder;
    private GenericRecord record;
    private ProcessorContext<String, String> context;
    private KeyValueStore<String, byte[]> store;

    Rules(Schema schema) {
      this.schema = schema;
    }

    @Override
    public void init(ProcessorContext<String, String> context) {
      this.context = context;
      this.store = context.getStateStore(STORE);
      this.reader = new GenericDatumReader<>(schema);
      /* bench/e2e.py drain starts the clock here, as at cxstream's
       * "assigned" line: the task's partition is assigned and its store
       * restored, nothing processed yet. */
      System.err.println("peer: task " + context.taskId() + " initialised");
    }

    @Override
    public void process(Record<String, byte[]> message) {
      byte[] bytes = message.value();
      if (bytes == null || bytes.length < 5 || bytes[0] != 0)
        return; /* not Confluent framing: cxstream sends it to its dead letters */
      try {
        decoder = DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, decoder);
        record = reader.read(record, decoder);
      } catch (Exception e) {
        return;
      }
      if (!"CONTACT".equals(record.get("type").toString()))
        return;
      String customer = record.get("customer_id").toString();
      long t = (Long) record.get("occurred_at");
      String channel = record.get("channel").toString();
      Object outcome = record.get("outcome");
      Object waitValue = record.get("wait_ms");
      long wait = waitValue == null ? 0 : (Long) waitValue;
      int flags = (assisted(channel) ? FLAG_ASSISTED : 0)
          | (outcome != null && "ABANDONED".equals(outcome.toString()) ? FLAG_ABANDONED : 0);

      byte[] old = store.get(customer);
      long[] quiet = {Long.MIN_VALUE, Long.MIN_VALUE, Long.MIN_VALUE};
      int count = 0;
      ByteBuffer in = null;
      if (old != null) {
        in = ByteBuffer.wrap(old);
        for (int r = 0; r < 3; r++)
          quiet[r] = in.getLong();
        count = in.getInt();
      }
      /* Keep the contacts still in (t - window, t], append this one, count. */
      ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES + (count + 1) * ENTRY_BYTES);
      out.position(HEADER_BYTES);
      int kept = 0, assistedCount = 0, abandonedCount = 0;
      long waitSum = 0;
      for (int i = 0; i < count; i++) {
        long time = in.getLong(), w = in.getLong();
        byte f = in.get();
        if (time <= t - WINDOW_MS || time > t)
          continue;
        out.putLong(time).putLong(w).put(f);
        kept++;
        waitSum += w;
        if ((f & FLAG_ASSISTED) != 0) assistedCount++;
        if ((f & FLAG_ABANDONED) != 0) abandonedCount++;
      }
      out.putLong(t).putLong(wait).put((byte) flags);
      kept++;
      waitSum += wait;
      if ((flags & FLAG_ASSISTED) != 0) assistedCount++;
      if ((flags & FLAG_ABANDONED) != 0) abandonedCount++;

      boolean[] fired = {
        (flags & FLAG_ASSISTED) != 0 && assistedCount >= 3,
        wait >= 600000 || waitSum >= 1800000,
        (flags & FLAG_ABANDONED) != 0 && abandonedCount >= 2,
      };
      String eventId = null;
      for (int r = 0; r < 3; r++) {
        if (fired[r] && t >= quiet[r]) {
          quiet[r] = t + COOLDOWN_MS;
          if (eventId == null)
            eventId = record.get("event_id").toString();
          context.forward(new Record<>(customer, RULES[r] + "|" + eventId + "|" + t,
                                       message.timestamp()));
        }
      }
      int end = out.position();
      out.position(0);
      for (int r = 0; r < 3; r++)
        out.putLong(quiet[r]);
      out.putInt(kept);
      byte[] value = new byte[end];
      System.arraycopy(out.array(), 0, value, 0, end);
      store.put(customer, value);
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 5) {
      System.err.println("usage: PeerRules BOOTSTRAP INPUT_TOPIC OUTPUT_TOPIC APPLICATION_ID SCHEMA_FILE [STATE_DIR]");
      System.exit(2);
    }
    Schema schema = new Schema.Parser().parse(new File(args[4]));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[3]);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
    props.put(StreamsConfig.STATE_DIR_CONFIG, args.length > 5 ? args[5] : "/tmp/cxbench-peer-state");
    props.put("auto.offset.reset", "earliest");
    /* Extra properties as -Dpeer.K=V (processing.guarantee, ...). */
    for (String name : System.getProperties().stringPropertyNames())
      if (name.startsWith("peer."))
        props.put(name.substring(5), System.getProperty(name));

    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE),
                                                      Serdes.String(), Serdes.ByteArray()));
    builder.stream(args[1], Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .process(() -> new Rules(schema), STORE)
        .to(args[2], Produced.with(Serdes.String(), Serdes.String()));

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      done.countDown();
    }));
    streams.setStateListener((now, before) -> System.err.println("peer: state " + before + " -> " + now));
    streams.start();
    done.await();
  }
}
